using System.Numerics;
using System.Text.Json.Nodes;
using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>Numbers written by tests/fixtures/generate_fixtures.py from real PyTorch.</summary>
internal static class Fixtures
{
    public static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }

    public static string Model(string file) => Path.Combine(Root, "models", file);
    public static string States(string file) => Path.Combine(Root, "states", file);

    public static JsonObject Expected(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "expected", name + ".json")))!.AsObject();

    public static IEnumerable<string> ExpectedNames() =>
        Directory.GetFiles(Path.Combine(Root, "expected"), "*.json").Select(Path.GetFileNameWithoutExtension).Order()!;

    public static double[] Vector(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
    public static double[][] Matrix(JsonNode? node) => node!.AsArray().Select(Vector).ToArray();

    /// <summary>Element-wise |a - e| &lt;= rel * |e| + abs.</summary>
    public static void Close(double[] expected, double[] actual, double rel = 1e-5, double abs = 1e-12, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= rel * Math.Abs(expected[i]) + abs,
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static void Close(double[][] expected, double[][] actual, double rel = 1e-5, double abs = 1e-12, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < expected.Length; r++) Close(expected[r], actual[r], rel, abs, $"{what}[{r}]");
    }

    /// <summary>Eigenvalues compared as multisets: each expected value is matched to a distinct nearest actual value.</summary>
    public static void SameMultiset(Complex[] expected, Complex[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        var left = actual.ToList();
        foreach (var e in expected)
        {
            var best = left.OrderBy(a => Complex.Abs(a - e)).First();
            Assert.True(Complex.Abs(best - e) <= tol * Math.Max(1, e.Magnitude), $"eigenvalue {e} not found; nearest {best}");
            left.Remove(best);
        }
    }
}

using System.Globalization;
using System.Numerics;

namespace RnnLinearization;

/// <summary>Short text forms of vectors and spectra for the default table views (RnnLinearization.Format.ps1xml).</summary>
public static class Display
{
    // Small values keep their magnitude (1e-5 is not shown as 0).
    private static string Number(double v) =>
        v != 0 && Math.Abs(v) < 1e-3 ? v.ToString("0.##e+0", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Vector(double[]? values, int shown)
    {
        if (values is null) return "";
        var head = string.Join(", ", values.Take(shown).Select(Number));
        return values.Length > shown ? $"[{head}, ... ({values.Length})]" : $"[{head}]";
    }

    public static string Matrix(double[][]? rows) =>
        rows is null ? "" : $"{rows.Length}x{(rows.Length == 0 ? 0 : rows[0].Length)}";

    public static string Eigenvalues(Complex[]? values, int shown)
    {
        if (values is null) return "";
        static string One(Complex c) => c.Imaginary == 0 ? Number(c.Real)
            : $"{Number(c.Real)}{(c.Imaginary < 0 ? "-" : "+")}{Number(Math.Abs(c.Imaginary))}i";
        var head = string.Join(", ", values.Take(shown).Select(One));
        return values.Length > shown ? $"{head}, ..." : head;
    }

    public static string Steps(double steps) =>
        double.IsPositiveInfinity(steps) ? "inf" : steps.ToString("0.##", CultureInfo.InvariantCulture);
}

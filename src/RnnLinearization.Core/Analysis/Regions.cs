using System.Text.Json;

namespace RnnLinearization.Core;

/// <summary>A named range of units: Start inclusive, End exclusive, in the state's order.</summary>
public sealed record UnitRange(string Name, int Start, int End)
{
    public int Count => End - Start;
}

/// <summary>
/// Named unit ranges of a model (brain regions of a multi-region network), read from JSON
/// {"PFC": [0, 40], "MD": [40, 60]}, and the Jacobian blocks they select: d next[to] / d state[from].
/// </summary>
public static class Regions
{
    public static IReadOnlyDictionary<string, UnitRange> Read(string path, int stateSize)
    {
        if (!File.Exists(path))
            throw new RnnException("RegionMapNotFound", RnnErrorKind.ObjectNotFound, $"No region map at '{path}'.");
        var map = new Dictionary<string, UnitRange>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                var v = p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                if (v.Length != 2 || v[0] < 0 || v[1] <= v[0] || v[1] > stateSize)
                    throw new RnnException("InvalidRegionMap", RnnErrorKind.InvalidData,
                        $"Region '{p.Name}' must be [start, end) with 0 <= start < end <= {stateSize}.");
                map[p.Name] = new UnitRange(p.Name, v[0], v[1]);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new RnnException("InvalidRegionMap", RnnErrorKind.InvalidData,
                $"'{path}' must be a JSON object of region names to [start, end) unit ranges: {ex.Message}", ex);
        }
        if (map.Count == 0)
            throw new RnnException("InvalidRegionMap", RnnErrorKind.InvalidData, $"'{path}' names no region.");
        return map;
    }

    /// <summary>The region called <paramref name="name"/> in the model's map.</summary>
    public static UnitRange Find(RnnModel model, string name) =>
        model.Regions is null
            ? throw new RnnException("NoRegionMap", RnnErrorKind.InvalidArgument, "The model has no region map; load it with Import-RnnModel -RegionMap.")
            : model.Regions.TryGetValue(name, out var r) ? r
            : throw new RnnException("RegionNotFound", RnnErrorKind.InvalidArgument,
                $"No region '{name}'; the model's regions: {string.Join(", ", model.Regions.Keys)}.");

    /// <summary>The block of a result: rows of <paramref name="to"/>, state columns of <paramref name="from"/>; input Jacobian rows of <paramref name="to"/>.</summary>
    public static JacobianResult Block(JacobianResult full, UnitRange to, UnitRange from) => new(
        full.NextState[to.Start..to.End],
        full.StateJacobian[to.Start..to.End].Select(row => row[from.Start..from.End]).ToArray(),
        full.InputJacobian[to.Start..to.End]);
}

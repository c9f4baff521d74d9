using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RnnLinearization.Core;

/// <summary>
/// One row of a state file: a state, the input applied at it when the file gives one (the step from State under
/// Input), and the row's Index when the file records one.
/// </summary>
public sealed record StateRecord(double[] State, double[]? Input, long? Index = null);

/// <summary>
/// Reads states, one per row, from .csv, .npy, .npz or .json files (chosen by extension). CSV: a header row names
/// the columns: "index" is the row's Index, names starting with "input" (or x0, u0, ...) are the input, every other
/// column is the state; without a header every column is the state. NPZ: arrays "states" [N, S], optional "inputs"
/// [N, I] and "index" [N] (int64). JSON: an array of number arrays or of objects with State (and Input, Index), or one
/// such object.
/// </summary>
public static class StateReader
{
    public static IReadOnlyList<StateRecord> Read(string path)
    {
        if (Directory.Exists(path))
            throw new RnnException("StatePathIsDirectory", RnnErrorKind.InvalidArgument, $"'{path}' is a directory; give a .csv, .npy, .npz or .json file.");
        if (!File.Exists(path))
            throw new RnnException("StateFileNotFound", RnnErrorKind.ObjectNotFound, $"No state file at '{path}'.");
        List<StateRecord> records;
        try
        {
            records = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".csv" => ReadCsv(path),
                ".npy" => ReadNpy(File.ReadAllBytes(path), path),
                ".npz" => ReadNpz(path),
                ".json" => ReadJson(path),
                var ext => throw new RnnException("UnknownStateFormat", RnnErrorKind.InvalidArgument,
                    $"'{path}' has extension '{ext}'; states are read from .csv, .npy, .npz or .json files."),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("StateFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is InvalidDataException or JsonException or FormatException or OverflowException)
        {
            throw Bad(path, $"it is damaged or not what its extension says: {ex.Message}");
        }
        if (records.Count == 0)
            throw new RnnException("EmptyStateFile", RnnErrorKind.InvalidData, $"'{path}' holds no states.");
        if (records.Any(r => r.State.Length == 0))
            throw Bad(path, "a row has no state values.");
        return records;
    }

    private static RnnException Bad(string path, string why) =>
        new("InvalidStateFile", RnnErrorKind.InvalidData, $"'{path}': {why}");

    /// <summary>Numeric columns separated by commas; a first line that is not all numbers is a header, which names the columns' roles.</summary>
    private static List<StateRecord> ReadCsv(string path)
    {
        var result = new List<StateRecord>();
        int lineNumber = 0, width = -1;
        string[]? header = null;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split(',');
            var row = new double[fields.Length];
            bool numeric = true;
            for (int i = 0; i < fields.Length && numeric; i++)
                numeric = double.TryParse(fields[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]);
            if (!numeric)
            {
                if (result.Count == 0 && header is null)
                {
                    header = fields.Select(f => f.Trim().Trim('"').ToLowerInvariant()).ToArray();
                    width = fields.Length;
                    continue;
                }
                throw Bad(path, $"line {lineNumber} has a value that is not a number.");
            }
            if (width >= 0 && row.Length != width)
                throw Bad(path, $"line {lineNumber} has {row.Length} columns; {(header is null ? "the first row" : "the header")} has {width}.");
            width = row.Length;
            result.Add(header is null ? new StateRecord(row, null) : Split(row, header));
        }
        return result;
    }

    private static bool IsInput(string name) => name.StartsWith("input", StringComparison.Ordinal) || Regex.IsMatch(name, @"^[xu]_?\d+$");

    private static StateRecord Split(double[] row, string[] header)
    {
        var state = new List<double>();
        var input = new List<double>();
        long? index = null;
        for (int i = 0; i < row.Length; i++)
        {
            if (header[i] == "index") index = (long)row[i];
            else if (IsInput(header[i])) input.Add(row[i]);
            else state.Add(row[i]);
        }
        return new StateRecord(state.ToArray(), input.Count > 0 ? input.ToArray() : null, index);
    }

    /// <summary>NumPy's .npy: float32 or float64, little-endian, 1-D (one state) or 2-D (one state per row), C order.</summary>
    private static List<StateRecord> ReadNpy(byte[] bytes, string path) =>
        Rows(Npy.Read(bytes, path, Bad)).Select(r => new StateRecord(r, null)).ToList();

    private static double[][] Rows((long[] Shape, double[] Data) a)
    {
        long rows = a.Shape.Length == 1 ? 1 : a.Shape[0], cols = a.Shape[^1];
        return Enumerable.Range(0, (int)rows).Select(r => a.Data.AsSpan((int)(r * cols), (int)cols).ToArray()).ToArray();
    }

    /// <summary>NumPy's .npz (np.savez): states [N, S], optional inputs [N, I] and index [N].</summary>
    private static List<StateRecord> ReadNpz(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        (long[] Shape, double[] Data)? Array(string name, bool integers = false)
        {
            var entry = zip.GetEntry(name + ".npy");
            if (entry is null) return null;
            if (entry.Length > 1L << 31) throw Bad(path, $"its array '{name}' is over 2 GB.");
            return Npy.Read(TorchZip.ReadAll(entry, (int)entry.Length, path), $"{path} ({name})", Bad, integers);
        }
        var states = Array("states") ?? throw Bad(path, $"it has no array 'states' (it has {string.Join(", ", zip.Entries.Select(e => e.Name))}); save with np.savez(path, states=..., inputs=...).");
        var rows = Rows(states);
        var inputs = Array("inputs") is { } i ? Rows(i) : null;
        var index = Array("index", integers: true) is { } x ? x.Data : null;
        if (inputs is not null && inputs.Length != rows.Length)
            throw Bad(path, $"it has {rows.Length} states but {inputs.Length} inputs; give one input per state.");
        if (index is not null && index.Length != rows.Length)
            throw Bad(path, $"it has {rows.Length} states but {index.Length} index values.");
        return rows.Select((r, k) => new StateRecord(r, inputs?[k], index is null ? null : (long)index[k])).ToList();
    }

    /// <summary>An array of number arrays, or of objects with a State array (and optionally Input and Index); or one such object.</summary>
    private static List<StateRecord> ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object) return new List<StateRecord> { Record(root, path, 0) };
        if (root.ValueKind != JsonValueKind.Array)
            throw Bad(path, "the JSON must be an array of states, or one object with a State array.");
        var result = new List<StateRecord>();
        int i = 0;
        foreach (var item in root.EnumerateArray())
            result.Add(item.ValueKind == JsonValueKind.Array ? new StateRecord(Numbers(item, path, i), null) : Record(item, path, i));
        return result;
    }

    private static StateRecord Record(JsonElement item, string path, int i)
    {
        if (item.ValueKind != JsonValueKind.Object || Property(item, "State") is not { } state)
            throw Bad(path, $"item {i} is neither an array of numbers nor an object with a State array.");
        var input = Property(item, "Input") is { ValueKind: JsonValueKind.Array } x ? Numbers(x, path, i) : null;
        long? index = Property(item, "Index") is { ValueKind: JsonValueKind.Number } n && n.TryGetInt64(out var v) ? v : null;
        return new StateRecord(Numbers(state, path, i), input, index);
    }

    private static JsonElement? Property(JsonElement obj, string name)
    {
        foreach (var p in obj.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    private static double[] Numbers(JsonElement array, string path, int item)
    {
        if (array.ValueKind != JsonValueKind.Array || array.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
            throw Bad(path, $"item {item} must be an array of numbers.");
        return array.EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RnnLinearization.Core;

/// <summary>One state read from a file, with the input at that state when the file gives one.</summary>
public sealed record StateRecord(double[] State, double[]? Input);

/// <summary>Reads states, one per row, from .csv, .npy or .json files (chosen by extension).</summary>
public static class StateReader
{
    public static IReadOnlyList<StateRecord> Read(string path)
    {
        if (!File.Exists(path))
            throw new RnnException("StateFileNotFound", RnnErrorKind.ObjectNotFound, $"No state file at '{path}'.");
        try
        {
            return Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".csv" => ReadCsv(path),
                ".npy" => ReadNpy(path),
                ".json" => ReadJson(path),
                var ext => throw new RnnException("UnknownStateFormat", RnnErrorKind.InvalidArgument,
                    $"'{path}' has extension '{ext}'; states are read from .csv, .npy or .json files."),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("StateFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
    }

    private static RnnException Bad(string path, string why) =>
        new("InvalidStateFile", RnnErrorKind.InvalidData, $"'{path}': {why}");

    /// <summary>Numeric columns separated by commas; a first line that is not all numbers is a header.</summary>
    private static List<StateRecord> ReadCsv(string path)
    {
        var result = new List<StateRecord>();
        int lineNumber = 0, width = -1;
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
                if (result.Count == 0 && width < 0) { width = fields.Length; continue; }   // the header
                throw Bad(path, $"line {lineNumber} has a value that is not a number.");
            }
            if (width >= 0 && row.Length != width)
                throw Bad(path, $"line {lineNumber} has {row.Length} columns; the first row has {width}.");
            width = row.Length;
            result.Add(new StateRecord(row, null));
        }
        return result;
    }

    /// <summary>NumPy's .npy: float32 or float64, little-endian, 1-D (one state) or 2-D (one state per row), C order.</summary>
    private static List<StateRecord> ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw Bad(path, "not a .npy file (no \\x93NUMPY magic).");
        int major = bytes[6];
        int headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        int dataStart = (major == 1 ? 10 : 12) + headerLength;
        string header = Encoding.Latin1.GetString(bytes, major == 1 ? 10 : 12, headerLength);
        string descr = Regex.Match(header, @"'descr'\s*:\s*'([^']*)'").Groups[1].Value;
        if (Regex.IsMatch(header, @"'fortran_order'\s*:\s*True"))
            throw Bad(path, "the array is in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).");
        var dims = Regex.Match(header, @"'shape'\s*:\s*\(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        int size = descr switch { "<f8" => 8, "<f4" => 4, _ => 0 };
        if (size == 0)
            throw Bad(path, $"the array's dtype is '{descr}'; states must be float32 or float64 (little-endian).");
        if (dims.Length is < 1 or > 2)
            throw Bad(path, $"the array has {dims.Length} dimensions; states must be 1-D (one state) or 2-D (one per row).");
        long rows = dims.Length == 1 ? 1 : dims[0], cols = dims[^1];
        if (bytes.Length - dataStart < rows * cols * size)
            throw Bad(path, "the file is shorter than its header says.");
        var result = new List<StateRecord>((int)rows);
        for (long r = 0; r < rows; r++)
        {
            var row = new double[cols];
            for (long c = 0; c < cols; c++)
            {
                var at = bytes.AsSpan((int)(dataStart + (r * cols + c) * size));
                row[c] = size == 8 ? BinaryPrimitives.ReadDoubleLittleEndian(at) : BinaryPrimitives.ReadSingleLittleEndian(at);
            }
            result.Add(new StateRecord(row, null));
        }
        return result;
    }

    /// <summary>An array of number arrays, or of objects with a State array (and optionally an Input array).</summary>
    private static List<StateRecord> ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw Bad(path, "the JSON must be an array of states.");
        var result = new List<StateRecord>();
        int i = 0;
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
                result.Add(new StateRecord(Numbers(item, path, i), null));
            else if (item.ValueKind == JsonValueKind.Object && Property(item, "State") is { } state)
                result.Add(new StateRecord(Numbers(state, path, i), Property(item, "Input") is { ValueKind: JsonValueKind.Array } input ? Numbers(input, path, i) : null));
            else
                throw Bad(path, $"item {i} is neither an array of numbers nor an object with a State array.");
            i++;
        }
        return result;
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

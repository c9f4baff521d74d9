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
public sealed record StateRecord(double[] State, double[]? Input, long? Index = null)
{
    /// <summary>The row's number in the whole file (0-based): the same whichever shard read it.</summary>
    public long Row { get; init; }
}

/// <summary>
/// The <see cref="Index"/>-th (0-based) of <see cref="Count"/> contiguous slices of a file's rows: every row in exactly
/// one slice, their sizes differing by at most one, so that shards of one file can go to the tasks of an array job.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(0, 1);

    /// <summary>Rows [First, End) of a file of <paramref name="rows"/> rows.</summary>
    public (long First, long End) Slice(long rows)
    {
        long size = rows / Count, extra = rows % Count;
        long first = Index * size + Math.Min(Index, extra);
        return (first, first + size + (Index < extra ? 1 : 0));
    }

    public void Check()
    {
        if (Count < 1 || Index < 0 || Index >= Count)
            throw new RnnException("InvalidShard", RnnErrorKind.InvalidArgument,
                $"Shard {Index} of {Count} does not exist: -ShardCount must be at least 1 and -Shard from 0 to {Math.Max(0, Count - 1)}.");
    }
}

/// <summary>
/// Reads states, one per row, from .csv, .npy, .npz or .json files (chosen by extension). CSV: a header row names
/// the columns: "index" is the row's Index, names starting with "input" (or x0, u0, ...) are the input, every other
/// column is the state; without a header every column is the state. NPZ: arrays "states" [N, S], optional "inputs"
/// [N, I] and "index" [N] (int64), or Export-RnnResult's State, Input and Index. JSON: an array of number arrays or of objects with State (and Input, Index), or one
/// such object.
/// </summary>
public static class StateReader
{
    /// <summary>
    /// The rows of <paramref name="shard"/> (all of them by default), each with its Index: the file's index, or the
    /// row's number in the whole file. .npy and .npz read only the shard's bytes; .csv and .json pass the other rows
    /// without parsing them.
    /// </summary>
    public static IReadOnlyList<StateRecord> Read(string path, Shard? shard = null)
    {
        var part = shard ?? Shard.Whole;
        part.Check();
        if (Directory.Exists(path))
            throw new RnnException("StatePathIsDirectory", RnnErrorKind.InvalidArgument, $"'{path}' is a directory; give a .csv, .npy, .npz or .json file.");
        if (!File.Exists(path))
            throw new RnnException("StateFileNotFound", RnnErrorKind.ObjectNotFound, $"No state file at '{path}'.");
        List<StateRecord> records;
        try
        {
            records = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".csv" => ReadCsv(path, part),
                ".npy" => ReadNpy(path, part),
                ".npz" => ReadNpz(path, part),
                ".json" => ReadJson(path, part),
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
        if (records.Any(r => r.State.Length == 0))
            throw Bad(path, "a row has no state values.");
        return records;
    }

    private static RnnException Empty(string path) => new("EmptyStateFile", RnnErrorKind.InvalidData, $"'{path}' holds no states.");

    /// <summary>The shard's slice of a file's rows (an error when the file has none), and the Index each row gets when the file gives none.</summary>
    private static (long First, long End) Slice(long rows, Shard shard, string path) =>
        rows > 0 ? shard.Slice(rows) : throw Empty(path);

    /// <summary>The record of the file's row <paramref name="row"/>, with that Index when the file gives none.</summary>
    private static StateRecord Numbered(StateRecord r, long row) => r with { Index = r.Index ?? row, Row = row };

    private static RnnException Bad(string path, string why) =>
        new("InvalidStateFile", RnnErrorKind.InvalidData, $"'{path}': {why}");

    /// <summary>
    /// Numeric columns separated by commas; a first line that is not all numbers is a header, which names the columns'
    /// roles. For a shard, a first pass counts the rows, and the second parses only the shard's.
    /// </summary>
    private static List<StateRecord> ReadCsv(string path, Shard shard)
    {
        string[]? header = null;
        long rows = 0;
        bool first = true;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (first)
            {
                first = false;
                // np.savetxt(..., header=...) writes "# " before the names (comments='# '): not part of the first name.
                if (Parse(line) is null) { header = line.TrimStart().TrimStart('#').Split(',').Select(f => f.Trim().Trim('"').ToLowerInvariant()).ToArray(); continue; }
            }
            if (shard.Count == 1) break;   // the whole file: no need to count
            rows++;
        }
        var (start, end) = shard.Count == 1 ? (0L, long.MaxValue) : Slice(rows, shard, path);
        var result = new List<StateRecord>();
        int lineNumber = 0, width = header?.Length ?? -1;
        long row = 0;
        bool headerLine = header is not null;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (headerLine) { headerLine = false; continue; }
            if (row >= end) break;
            if (row < start) { row++; continue; }   // another shard's row: not parsed
            var values = Parse(line) ?? throw Bad(path, $"line {lineNumber} has a value that is not a number.");
            if (width >= 0 && values.Length != width)
                throw Bad(path, $"line {lineNumber} has {values.Length} columns; {(header is null ? "the first row" : "the header")} has {width}.");
            width = values.Length;
            var record = header is null ? new StateRecord(values, null) : Split(values, header);
            if (record.State.Length == 0)
                throw Bad(path, $"its header names no state column: 'index' is the row's Index, and names starting with 'input' or like x0, x_0, u0 are inputs ({string.Join(", ", header!.Take(4))}{(header!.Length > 4 ? ", ..." : "")}). Name the state's columns h0, h1, ... or state_0, state_1, ....");
            result.Add(Numbered(record, row));
            row++;
        }
        if (row == 0) throw Empty(path);
        return result;
    }

    /// <summary>The line's numbers, or null when a field is not a number.</summary>
    private static double[]? Parse(string line)
    {
        var fields = line.Split(',');
        var values = new double[fields.Length];
        for (int i = 0; i < fields.Length; i++)
            if (!double.TryParse(fields[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
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

    /// <summary>NumPy's .npy: float32 or float64, little-endian, 1-D (one state) or 2-D (one state per row), C order; only the shard's rows are read.</summary>
    private static List<StateRecord> ReadNpy(string path, Shard shard)
    {
        using var file = File.OpenRead(path);
        var info = Npy.ReadHeader(file, file.Length, path, Bad);
        var (first, end) = Slice(info.Rows, shard, path);
        return Rows(Npy.ReadRows(file, info, first, end, path, Bad), info.Columns)
            .Select((r, k) => new StateRecord(r, null, first + k) { Row = first + k }).ToList();
    }

    private static double[][] Rows(double[] data, long columns)
    {
        long rows = columns == 0 ? 0 : data.Length / columns;
        return Enumerable.Range(0, (int)rows).Select(r => data.AsSpan((int)(r * columns), (int)columns).ToArray()).ToArray();
    }

    /// <summary>NumPy's .npz (np.savez): states [N, S], optional inputs [N, I] and index [N]; only the shard's rows are read.</summary>
    private static List<StateRecord> ReadNpz(string path, Shard shard)
    {
        using var zip = Npy.OpenNpz(path);
        // np.savez(path, states=..., inputs=..., index=...), or Export-RnnResult's columns State, Input and Index.
        var (statesName, inputsName, indexName) = zip.GetEntry("states.npy") is null && zip.GetEntry("State.npy") is not null
            ? ("State", "Input", "Index") : ("states", "inputs", "index");
        var statesEntry = zip.GetEntry(statesName + ".npy")
            ?? throw Bad(path, $"it has no array 'states' (it has {string.Join(", ", zip.Entries.Select(e => e.Name))}); save with np.savez(path, states=..., inputs=...).");
        long rows;
        using (var stream = statesEntry.Open()) rows = Npy.ReadHeader(stream, statesEntry.Length, $"{path} (states)", Bad).Rows;
        var (first, end) = Slice(rows, shard, path);
        double[][]? Array(string name, bool integers = false)
        {
            var entry = zip.GetEntry(name + ".npy");
            if (entry is null) return null;
            using var stream = entry.Open();
            var info = Npy.ReadHeader(stream, entry.Length, $"{path} ({name})", Bad, integers);
            if (name == indexName && info.Shape.Length == 1) info = info with { Shape = new[] { info.Shape[0], 1L } };   // [N]: one value per row
            if (info.Rows != rows) throw Bad(path, $"it has {rows} states but {info.Rows} {name}; give one per state.");
            return Rows(Npy.ReadRows(stream, info, first, end, $"{path} ({name})", Bad), info.Columns);
        }
        var states = Array(statesName)!;
        var inputs = Array(inputsName);
        var index = Array(indexName, integers: true);
        return states.Select((r, k) => new StateRecord(r, inputs?[k], index is null ? first + k : (long)index[k][0]) { Row = first + k }).ToList();
    }

    /// <summary>
    /// An array of number arrays, or of objects with a State array (and optionally Input and Index); or one such object.
    /// Items are built one at a time as the reader passes them; for a shard, a first pass counts them and the second
    /// builds only the shard's, skipping the rest unparsed.
    /// </summary>
    private static List<StateRecord> ReadJson(string path, Shard shard)
    {
        try { return ReadJsonItems(path, shard); }
        catch (InvalidOperationException ex) { throw Bad(path, $"it is not valid UTF-8 JSON: {ex.Message}"); }   // invalid UTF-8 in a name or string
    }

    private static List<StateRecord> ReadJsonItems(string path, Shard shard)
    {
        var bytes = File.ReadAllBytes(path);
        int bom = bytes.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }) ? 3 : 0;
        var json = new ReadOnlyMemory<byte>(bytes, bom, bytes.Length - bom);
        var reader = new Utf8JsonReader(json.Span);
        if (!reader.Read()) throw Empty(path);
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            using var one = JsonDocument.ParseValue(ref reader);
            var (f, e) = Slice(1, shard, path);
            return f < e ? new List<StateRecord> { Numbered(Record(one.RootElement, path, 0), 0) } : new List<StateRecord>();
        }
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Bad(path, "the JSON must be an array of states, or one object with a State array.");
        long first = 0, end = long.MaxValue;
        if (shard.Count > 1)
        {
            long items = 0;
            var counter = new Utf8JsonReader(json.Span);
            counter.Read();
            while (counter.Read() && counter.TokenType != JsonTokenType.EndArray) { counter.Skip(); items++; }
            (first, end) = Slice(items, shard, path);
        }
        var result = new List<StateRecord>();
        int i = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray && i < end)
        {
            if (i < first) { reader.Skip(); i++; continue; }   // another shard's item: passed, not built
            using var item = JsonDocument.ParseValue(ref reader);
            var e = item.RootElement;
            result.Add(Numbered(e.ValueKind == JsonValueKind.Array ? new StateRecord(Numbers(e, path, i), null) : Record(e, path, i), i));
            i++;
        }
        if (shard.Count == 1 && result.Count == 0) throw Empty(path);
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

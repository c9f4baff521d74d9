using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace RnnLinearization.Core;

/// <summary>
/// Writes states (with their inputs and indices) in the formats <see cref="StateReader"/> reads, so that a file read
/// back gives the same numbers exactly: doubles as round-trip text ("R") in .csv and .json, float64 in .npy and .npz.
/// A .npy holds the states alone; .csv, .json and .npz keep inputs and indices.
/// </summary>
public static class StateWriter
{
    public static void Write(string path, IReadOnlyList<StateRecord> records, string? noClobberId = null)
    {
        if (records.Count == 0)
            throw new RnnException("NoStatesToWrite", RnnErrorKind.InvalidArgument, "There are no states to write.");
        int s = records[0].State.Length;
        int? inputs = records[0].Input?.Length;
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i].State.Length != s)
                throw new RnnException("StateLengthMismatch", RnnErrorKind.InvalidArgument,
                    $"State {i} has {records[i].State.Length} values and state 0 has {s}; a state file has one width.");
            if (records[i].Input?.Length != inputs)
                throw new RnnException("InputLengthMismatch", RnnErrorKind.InvalidArgument,
                    $"State {i} has {(records[i].Input is null ? "no input" : $"an input of {records[i].Input!.Length}")} and state 0 " +
                    $"{(inputs is null ? "none" : $"one of {inputs}")}; every state has an input of one length, or none has.");
        }
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".csv" or ".json" or ".npy" or ".npz"))
            throw new RnnException("UnknownStateFormat", RnnErrorKind.InvalidArgument, $"'{path}' has extension '{ext}'; states are written to .csv, .json, .npy or .npz files.");
        try
        {
            AtomicFile.Write(path, file =>
            {
                switch (ext)
                {
                    case ".csv": Csv(file, records, s, inputs ?? 0); break;
                    case ".json": Json(file, records); break;
                    case ".npy": Npy.Write(file, new long[] { records.Count, s }, records.SelectMany(r => r.State)); break;
                    default: Npz(file, records, s, inputs); break;
                }
            }, noClobberId);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("StateFileUnwritable", RnnErrorKind.WriteError, $"'{path}' cannot be written: {ex.Message}", ex);
        }
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Csv(Stream file, IReadOnlyList<StateRecord> records, int s, int inputs)
    {
        using var w = new StreamWriter(file, new UTF8Encoding(false), leaveOpen: true);
        w.WriteLine(string.Join(",", new[] { "index" }.Concat(Enumerable.Range(0, s).Select(i => $"state_{i}")).Concat(Enumerable.Range(0, inputs).Select(i => $"input_{i}"))));
        for (int k = 0; k < records.Count; k++)
        {
            var r = records[k];
            w.WriteLine(string.Join(",", new[] { (r.Index ?? k).ToString(CultureInfo.InvariantCulture) }.Concat(r.State.Select(R)).Concat((r.Input ?? Array.Empty<double>()).Select(R))));
        }
    }

    private static void Json(Stream file, IReadOnlyList<StateRecord> records)
    {
        using var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = false });   // leaves the stream open
        w.WriteStartArray();
        for (int k = 0; k < records.Count; k++)
        {
            w.WriteStartObject();
            w.WriteNumber("Index", records[k].Index ?? k);
            w.WriteStartArray("State");
            foreach (var v in records[k].State) w.WriteRawValue(R(v));
            w.WriteEndArray();
            if (records[k].Input is { } input)
            {
                w.WriteStartArray("Input");
                foreach (var v in input) w.WriteRawValue(R(v));
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Npz(Stream file, IReadOnlyList<StateRecord> records, int s, int? inputs)
    {
        using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
        void Add(string name, long[] shape, IEnumerable<double> values, bool int64 = false)
        {
            using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            Npy.Write(entry, shape, values, int64);
        }
        Add("states.npy", new long[] { records.Count, s }, records.SelectMany(r => r.State));
        if (inputs is { } n) Add("inputs.npy", new long[] { records.Count, n }, records.SelectMany(r => r.Input!));
        Add("index.npy", new long[] { records.Count }, records.Select((r, k) => (double)(r.Index ?? k)), int64: true);
    }
}

using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RnnLinearization.Core;

/// <summary>
/// The safetensors format: a little-endian u64 header length, a JSON header
/// ({name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}), then the raw data. Read as the format's
/// own library validates it: a header of at most 100 MB, no name twice, offsets that tile the data exactly (in order,
/// no gaps, no overlaps, to its end), and each tensor's bytes equal to its shape times its type's size.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100_000_000;

    /// <summary>True when the file starts like a safetensors file (plausible header length, then '{').</summary>
    public static bool LooksLike(ReadOnlySpan<byte> head, long fileLength) =>
        head.Length >= 9 && head[8] == (byte)'{' &&
        BinaryPrimitives.ReadUInt64LittleEndian(head) is var n && n > 0 && (long)n <= fileLength - 8;

    /// <summary>The tensors (read when asked for) and metadata of a safetensors file.</summary>
    public static (Dictionary<string, Parameter> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var file = ModelFile.Open(path);
        return (file.Tensors.ToDictionary(kv => kv.Key, kv => new Parameter(kv.Value.Shape, kv.Value.Data)), file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    internal static Source Open(Stream file, string path, ReadLimits limits)
    {
        var head = new byte[8];
        file.ReadExactly(head);
        long headerLength = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(head), long.MaxValue);
        if (headerLength > MaxHeader) throw limits.TooLarge($"its safetensors header claims {MemoryGuard.Size(headerLength)} (the format allows 100 MB)");
        if (headerLength > file.Length - 8) throw ModelFile.Unreadable(path, "its safetensors header runs past the end of the file: it is truncated.");
        limits.ChargePickle(4 * headerLength);
        var json = new byte[headerLength];
        file.ReadExactly(json);
        long dataStart = 8 + headerLength, dataLength = file.Length - dataStart;
        var source = new Source(file, dataStart, limits);
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException ex) { throw ModelFile.Unreadable(path, $"its safetensors header is not valid JSON: {ex.Message}"); }
        using (document)
        try
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw ModelFile.Unreadable(path, "its safetensors header is not a JSON object.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            var spans = new List<(long Begin, long End, string Name)>();
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (!names.Add(entry.Name)) throw limits.Duplicate($"its safetensors header names '{entry.Name}' twice");
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind != JsonValueKind.Object) throw ModelFile.Unreadable(path, "its __metadata__ is not an object of strings.");
                    foreach (var m in entry.Value.EnumerateObject())
                        source.Metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                            : throw ModelFile.Unreadable(path, "its __metadata__ is not an object of strings.");
                    continue;
                }
                var (tensor, begin, end) = Tensor(entry, path, limits);
                spans.Add((begin, end, entry.Name));
                source.Tensors.Add((entry.Name, tensor));
                source.Offsets[entry.Name] = begin;
            }
            long at = 0;
            foreach (var (begin, end, name) in spans.OrderBy(s => s.Begin).ThenBy(s => s.End))
            {
                if (begin != at)
                    throw limits.Inconsistent(begin < at ? $"tensor '{name}' overlaps the one before it" : $"the data has a gap before tensor '{name}'");
                at = end;
            }
            if (at != dataLength) throw limits.Inconsistent($"its tensors cover {at:#,0} bytes of data, but the file holds {dataLength:#,0}");
        }
        catch (InvalidOperationException ex) { throw ModelFile.Unreadable(path, $"its safetensors header is not valid UTF-8 JSON: {ex.Message}"); }
        return source;
    }

    /// <summary>One header entry: dtype, shape and data_offsets, with every size checked without wrapping.</summary>
    private static (PickleTensor, long Begin, long End) Tensor(JsonProperty entry, string path, ReadLimits limits)
    {
        var e = entry.Value;
        if (e.ValueKind == JsonValueKind.Object && e.EnumerateObject().GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw limits.Duplicate($"tensor '{entry.Name}' gives '{twice.Key}' twice in the safetensors header");
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var shapeNode) || shapeNode.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var offsetsNode) || offsetsNode.ValueKind != JsonValueKind.Array || offsetsNode.GetArrayLength() != 2)
            throw ModelFile.Unreadable(path, $"tensor '{entry.Name}' lacks a dtype, shape or data_offsets.");
        if (shapeNode.GetArrayLength() > ReadLimits.Rank) throw limits.TooComplex($"tensor '{entry.Name}' has {shapeNode.GetArrayLength():#,0} dimensions");
        long Size(JsonElement n) => n.ValueKind == JsonValueKind.Number && n.TryGetInt64(out var v) && v >= 0 ? v
            : throw limits.Inconsistent($"tensor '{entry.Name}' has a size or offset that is not a non-negative integer");
        var shape = shapeNode.EnumerateArray().Select(Size).ToArray();
        long begin = Size(offsetsNode[0]), end = Size(offsetsNode[1]);
        var type = Types.TryGetValue(dtype.GetString()!, out var known) ? known
            : throw ModelFile.Unreadable(path, $"tensor '{entry.Name}' has the dtype '{dtype.GetString()}', which safetensors does not define.");
        long count = shape.Aggregate(1L, (a, b) => limits.Product(a, b, $"tensor '{entry.Name}'"));
        if (end < begin || (type.Size > 0 && end - begin != limits.Product(count, type.Size, $"tensor '{entry.Name}'")))
            throw limits.Inconsistent($"tensor '{entry.Name}' has {end - begin:#,0} bytes of data for {count:#,0} {dtype.GetString()} values");
        // Each tensor is its own storage here; a type the module cannot read (F8, U64, ...) is listed with size 0.
        var storage = new PickleStorage(entry.Name, type, type.Size > 0 ? count : end - begin);
        return (new PickleTensor(storage, 0, shape, ContiguousStrides(shape)), begin, end);
    }

    /// <summary>The format's dtypes: those this module reads, and the others (listed, with no values).</summary>
    private static readonly Dictionary<string, TensorType> Types = new[] { "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" }
        .ToDictionary(n => n, n => TensorType.Find(n)!)
        .Concat(new[] { "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64" }.Select(n => KeyValuePair.Create(n, TensorType.Unread(n))))
        .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = s;
            s = shape[d] == 0 ? s : (long)Math.Min((double)long.MaxValue, (double)s * shape[d]);
        }
        return strides;
    }

    /// <summary>A safetensors file's tensors, each its own storage at its offset in the data.</summary>
    internal sealed class Source : IStorageSource
    {
        private readonly Stream _file;
        private readonly long _dataStart;
        private readonly ReadLimits _limits;

        public Source(Stream file, long dataStart, ReadLimits limits)
        {
            _file = file;
            _dataStart = dataStart;
            _limits = limits;
        }

        public List<(string Name, PickleTensor Tensor)> Tensors { get; } = new();
        public Dictionary<string, long> Offsets { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

        public byte[] Bytes(PickleStorage storage)
        {
            long n = storage.Count * storage.Type.Size;   // checked against the header's offsets
            if (n > Array.MaxLength) throw _limits.TooLarge($"tensor '{storage.Key}' is {MemoryGuard.Size(n)}, more than one array holds");
            var bytes = new byte[n];
            _file.Position = _dataStart + Offsets[storage.Key];
            _file.ReadExactly(bytes);
            return bytes;
        }

        public void Dispose() => _file.Dispose();
    }

    /// <summary>Writes the tensors as F32 when every value survives the round trip, else as F64.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Parameter> tensors, IReadOnlyDictionary<string, string> metadata, string? noClobberId = null)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, p) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            bool single = p.Data.All(v => (double)(float)v == v);
            var blob = new byte[p.Data.Length * (single ? 4 : 8)];
            for (int i = 0; i < p.Data.Length; i++)
            {
                if (single) BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(i * 4), (float)p.Data[i]);
                else BinaryPrimitives.WriteDoubleLittleEndian(blob.AsSpan(i * 8), p.Data[i]);
            }
            header[name] = new JsonObject
            {
                ["dtype"] = single ? "F32" : "F64",
                ["shape"] = new JsonArray(p.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + blob.Length),
            };
            blobs.Add(blob);
            offset += blob.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;   // data starts 8-byte aligned
        AtomicFile.Write(path, file =>
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            file.Write(length);
            file.Write(json);
            for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var blob in blobs) file.Write(blob);
        }, noClobberId);
    }
}

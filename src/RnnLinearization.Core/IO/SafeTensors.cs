using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RnnLinearization.Core;

/// <summary>
/// The safetensors format: a little-endian u64 header length, a JSON header
/// ({name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}), then the raw data.
/// </summary>
public static class SafeTensors
{
    /// <summary>True when the file starts like a safetensors file (plausible header length, then '{').</summary>
    public static bool LooksLike(ReadOnlySpan<byte> head, long fileLength) =>
        head.Length >= 9 && head[8] == (byte)'{' &&
        BinaryPrimitives.ReadUInt64LittleEndian(head) is var n && n > 0 && (long)n <= fileLength - 8;

    public static (Dictionary<string, Parameter> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var tensors = new Dictionary<string, Parameter>();
        var metadata = new Dictionary<string, string>();
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        long dataStart = 8 + headerLength;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            var dtype = node!["dtype"]!.GetValue<string>();
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var raw = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0]));
            tensors[name] = new Parameter(shape, Decode(raw, dtype, count, name));
        }
        return (tensors, metadata);
    }

    private static double[] Decode(ReadOnlySpan<byte> raw, string dtype, long count, string name)
    {
        int size = dtype switch { "F64" => 8, "F32" => 4, "F16" or "BF16" => 2, _ => 0 };
        if (size == 0)
            throw new RnnException("UnsupportedTensorType", RnnErrorKind.InvalidData,
                $"Tensor '{name}' is stored as {dtype}; only floating-point tensors (F64, F32, F16, BF16) can be model weights.");
        if (raw.Length != count * size)
            throw new RnnException("UnreadableModelFile", RnnErrorKind.InvalidData,
                $"Tensor '{name}' has {raw.Length} bytes of data for {count} {dtype} values; the file is damaged.");
        var data = new double[count];
        for (int i = 0; i < count; i++)
        {
            var at = raw.Slice(i * size, size);
            data[i] = dtype switch
            {
                "F64" => BinaryPrimitives.ReadDoubleLittleEndian(at),
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(at),
                "F16" => (double)BinaryPrimitives.ReadHalfLittleEndian(at),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at) << 16),   // BF16
            };
        }
        return data;
    }

    /// <summary>Writes the tensors as F32 when every value survives the round trip, else as F64.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Parameter> tensors, IReadOnlyDictionary<string, string> metadata)
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
        });
    }
}

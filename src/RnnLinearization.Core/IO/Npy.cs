using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RnnLinearization.Core;

/// <summary>NumPy's .npy format (version 1 to 3): little-endian float64, float32, int64 or int32 arrays in C order.</summary>
internal static class Npy
{
    /// <summary>The array's shape and values; every length is checked against the bytes before anything is allocated.</summary>
    public static (long[] Shape, double[] Data) Read(byte[] bytes, string name, Func<string, string, RnnException> bad, bool integers = false)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw bad(name, "not a .npy file (no \\x93NUMPY magic).");
        int major = bytes[6];
        if (major is < 1 or > 3) throw bad(name, $"its .npy version {major} is not one NumPy writes.");
        int lengthSize = major == 1 ? 2 : 4;
        if (bytes.Length < 8 + lengthSize) throw bad(name, "the file is shorter than its header says.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        long dataStart = 8 + lengthSize + headerLength;
        if (dataStart > bytes.Length) throw bad(name, "the file is shorter than its header says.");
        string header = Encoding.Latin1.GetString(bytes, 8 + lengthSize, (int)headerLength);
        string descr = Regex.Match(header, @"'descr'\s*:\s*'([^']*)'").Groups[1].Value;
        if (Regex.IsMatch(header, @"'fortran_order'\s*:\s*True"))
            throw bad(name, "the array is in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).");
        var shapeText = Regex.Match(header, @"'shape'\s*:\s*\(([^)]*)\)");
        if (!shapeText.Success) throw bad(name, "its header has no shape.");
        var shape = new List<long>();
        foreach (var d in shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            shape.Add(long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw bad(name, $"its shape has '{d}', not a size."));
        int size = descr switch { "<f8" => 8, "<f4" => 4, "<i8" when integers => 8, "<i4" when integers => 4, _ => 0 };
        if (size == 0)
            throw bad(name, $"the array's dtype is '{descr}'; it must be {(integers ? "int32 or int64" : "float32 or float64")} (little-endian).");
        if (shape.Count is < 1 or > 2)
            throw bad(name, $"the array has {shape.Count} dimensions; states must be 1-D (one state) or 2-D (one per row).");
        long count = shape.Aggregate(1L, (a, b) => b == 0 || a <= long.MaxValue / b ? a * b : long.MaxValue);
        if (count > (bytes.Length - dataStart) / size) throw bad(name, "the file is shorter than its header says.");
        var data = new double[count];
        var span = bytes.AsSpan((int)dataStart);
        for (int i = 0; i < data.Length; i++)
        {
            var at = span.Slice(i * size, size);
            data[i] = descr switch
            {
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(at),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(at),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(at),
                _ => BinaryPrimitives.ReadInt32LittleEndian(at),
            };
        }
        return (shape.ToArray(), data);
    }

    /// <summary>Writes a float64 ('&lt;f8') or int64 ('&lt;i8') array.</summary>
    public static void Write(Stream stream, long[] shape, IEnumerable<double> values, bool int64 = false)
    {
        Header(stream, int64 ? "<i8" : "<f8", shape);
        Span<byte> buffer = stackalloc byte[8];
        foreach (var v in values)
        {
            if (int64) BinaryPrimitives.WriteInt64LittleEndian(buffer, (long)v);
            else BinaryPrimitives.WriteDoubleLittleEndian(buffer, v);
            stream.Write(buffer);
        }
    }

    /// <summary>A version 1.0 header for an array of the given dtype and shape, padded to 64 bytes as NumPy pads it; the data follows.</summary>
    public static void Header(Stream stream, string dtype, long[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        dict += new string(' ', (64 - total % 64) % 64) + "\n";
        var head = new byte[10];
        head[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(head, 1);
        head[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(8), (ushort)dict.Length);
        stream.Write(head);
        stream.Write(Encoding.Latin1.GetBytes(dict));
    }
}

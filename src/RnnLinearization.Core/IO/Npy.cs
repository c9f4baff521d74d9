using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace RnnLinearization.Core;

/// <summary>NumPy's .npy format (version 1 to 3): little-endian float64, float32, int64 or int32 arrays in C order.</summary>
internal static class Npy
{
    /// <summary>The array's shape and values; every length is checked against the bytes before anything is allocated.</summary>
    public static (long[] Shape, double[] Data) Read(byte[] bytes, string name, Func<string, string, RnnException> bad, bool integers = false)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        var header = ReadHeader(stream, bytes.Length, name, bad, integers);
        long rows = header.Shape.Length == 1 ? 1 : header.Shape[0];
        return (header.Shape, ReadRows(stream, header, 0, rows, name, bad));
    }

    /// <summary>A .npy header: shape, dtype, item size, and where the data starts.</summary>
    public sealed record Info(long[] Shape, string Descr, int ItemSize, long DataStart)
    {
        /// <summary>Values per row: the last dimension of a 2-D array, the whole of a 1-D one (one row).</summary>
        public long Columns => Shape[^1];
        public long Rows => Shape.Length == 1 ? 1 : Shape[0];
    }

    /// <summary>
    /// Reads a state array's header from the stream (left at the data): float32 or float64 (int32 or int64 with
    /// <paramref name="integers"/>), 1-D or 2-D; <paramref name="length"/> is the stream's whole length, against which
    /// the shape is checked.
    /// </summary>
    public static Info ReadHeader(Stream stream, long length, string name, Func<string, string, RnnException> bad, bool integers = false)
    {
        var info = ReadAnyHeader(stream, length, name, bad);
        if (!(info.Descr is "<f8" or "<f4" || (integers && info.Descr is "<i8" or "<i4")))
            throw bad(name, $"the array's dtype is '{info.Descr}'; it must be {(integers ? "int32 or int64" : "float32 or float64")} (little-endian).");
        if (info.Shape.Length is < 1 or > 2)
            throw bad(name, $"the array has {info.Shape.Length} dimensions; states must be 1-D (one state) or 2-D (one per row).");
        return info;
    }

    /// <summary>
    /// Reads any header this module writes or reads (float64/32, int64/32, complex128, bool, fixed-width unicode; any
    /// shape), leaving the stream at the data. An unknown dtype has ItemSize 0; a known one's data is checked to fit in
    /// <paramref name="length"/>.
    /// </summary>
    public static Info ReadAnyHeader(Stream stream, long length, string name, Func<string, string, RnnException> bad)
    {
        var head = new byte[12];
        if (length < 10 || !Fill(stream, head.AsSpan(0, 10)) || head[0] != 0x93 || Encoding.ASCII.GetString(head, 1, 5) != "NUMPY")
            throw bad(name, "not a .npy file (no \\x93NUMPY magic).");
        int major = head[6];
        if (major is < 1 or > 3) throw bad(name, $"its .npy version {major} is not one NumPy writes.");
        int lengthSize = major == 1 ? 2 : 4;
        if (length < 8 + lengthSize || (lengthSize == 4 && !Fill(stream, head.AsSpan(10, 2)))) throw bad(name, "the file is shorter than its header says.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
        long dataStart = 8 + lengthSize + headerLength;
        if (dataStart > length || headerLength > 1 << 20) throw bad(name, "the file is shorter than its header says.");
        var text = new byte[headerLength];
        if (!Fill(stream, text)) throw bad(name, "the file is shorter than its header says.");
        var (descr, fortran, shape) = Dict(Encoding.Latin1.GetString(text), name, bad);
        if (fortran) throw bad(name, "the array is in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).");
        int size = descr switch
        {
            "<f8" or "<i8" => 8, "<f4" or "<i4" => 4, "<c16" => 16, "|b1" => 1,
            _ when descr.StartsWith("<U") && int.TryParse(descr[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var w) && w is > 0 and < 1 << 20 => 4 * w,
            _ => 0,
        };
        long count = shape.Aggregate(1L, (a, b) => b == 0 || a <= long.MaxValue / b ? a * b : long.MaxValue);
        if (size > 0 && count > (length - dataStart) / size) throw bad(name, "the file is shorter than its header says.");
        return new Info(shape, descr, size, dataStart);
    }

    /// <summary>
    /// The header's Python dict literal, {'descr': '&lt;f8', 'fortran_order': False, 'shape': (3, 4), }, read as NumPy's
    /// literal_eval reads it: exactly these three keys, each once (a key given twice is refused, since readers differ
    /// on which one counts).
    /// </summary>
    private static (string Descr, bool Fortran, long[] Shape) Dict(string header, string name, Func<string, string, RnnException> bad)
    {
        int at = 0;
        void Space() { while (at < header.Length && char.IsWhiteSpace(header[at])) at++; }
        bool Take(char c) { Space(); if (at < header.Length && header[at] == c) { at++; return true; } return false; }
        void Expect(char c) { if (!Take(c)) throw bad(name, $"its header is not the dict NumPy writes (expected '{c}' at {at})."); }
        string Text()
        {
            Space();
            if (at >= header.Length || header[at] is not ('\'' or '"')) throw bad(name, "its header is not the dict NumPy writes (expected a string).");
            char quote = header[at++];
            int end = header.IndexOf(quote, at);
            if (end < 0) throw bad(name, "its header is not the dict NumPy writes (an unterminated string).");
            var value = header[at..end];
            at = end + 1;
            return value;
        }
        string Word()
        {
            Space();
            int start = at;
            while (at < header.Length && (char.IsLetterOrDigit(header[at]) || header[at] == '-')) at++;
            return header[start..at];
        }
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        Expect('{');
        while (!Take('}'))
        {
            string key = Text();
            Expect(':');
            if ((key == "descr" && descr is not null) || (key == "fortran_order" && fortran is not null) || (key == "shape" && shape is not null))
                throw ReadLimits.DuplicateRecord(name, $"its .npy header gives '{key}' twice");
            switch (key)
            {
                case "descr": descr = Text(); break;
                case "fortran_order":
                    fortran = Word() switch { "True" => true, "False" => false, var w => throw bad(name, $"its fortran_order is '{w}', not True or False.") };
                    break;
                case "shape":
                    // A Python tuple: (), (3,) or (3, 4) with an optional trailing comma; (3) is an int, not a shape.
                    Expect('(');
                    var dims = new List<long>();
                    bool comma = false;
                    while (!Take(')'))
                    {
                        string d = Word();
                        if (d.EndsWith('L')) d = d[..^1];   // Python 2's long
                        dims.Add(d.Length > 0 && d.All(char.IsAsciiDigit) && (d.Length == 1 || d[0] != '0') && long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                            ? v : throw bad(name, $"its shape has '{d}', not a size."));
                        if (dims.Count > 32) throw bad(name, "its shape has more than 32 dimensions.");
                        comma = Take(',');
                        if (!comma) { Expect(')'); break; }
                    }
                    if (dims.Count == 1 && !comma) throw bad(name, "its shape is not a tuple (one size needs a comma: (3,)).");
                    shape = dims.ToArray();
                    break;
                default: throw bad(name, $"its header has the key '{key}', which .npy headers do not have.");
            }
            if (!Take(',')) { Expect('}'); break; }
        }
        if (descr is null || fortran is null || shape is null) throw bad(name, "its header lacks descr, fortran_order or shape.");
        Space();
        if (at < header.Length) throw bad(name, "its header has more after its dict.");
        return (descr, fortran.Value, shape);
    }

    /// <summary>
    /// Opens an .npz, refusing one that names an array twice: the same entry twice (NumPy takes the last), or 'states'
    /// beside 'states.npy' (NumPy's np.load(f)['states'] takes the first, this module the second).
    /// </summary>
    public static System.IO.Compression.ZipArchive OpenNpz(string path)
    {
        var zip = System.IO.Compression.ZipFile.OpenRead(path);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in zip.Entries)
            if (!seen.Add(e.FullName.EndsWith(".npy", StringComparison.Ordinal) ? e.FullName[..^4] : e.FullName))
            {
                zip.Dispose();
                throw ReadLimits.DuplicateRecord(path, $"it holds the array '{e.FullName}' twice");
            }
        return zip;
    }

    /// <summary>
    /// Rows [first, end) of the array, from a stream left at the data by <see cref="ReadHeader"/>: the rows before
    /// are skipped (by seeking where the stream can), so a shard of a large file reads only its own bytes.
    /// </summary>
    public static double[] ReadRows(Stream stream, Info info, long first, long end, string name, Func<string, string, RnnException> bad)
    {
        long skip = first * info.Columns * info.ItemSize;
        if (stream.CanSeek) stream.Seek(skip, SeekOrigin.Current);
        else
        {
            var sink = new byte[81920];
            for (long left = skip; left > 0;)
            {
                int n = stream.Read(sink, 0, (int)Math.Min(sink.Length, left));
                if (n == 0) throw bad(name, "the file is shorter than its header says.");
                left -= n;
            }
        }
        long count = (end - first) * info.Columns;
        if (count > int.MaxValue / info.ItemSize) throw bad(name, "the slice is over 2 GB; read it in more shards.");
        // The bytes, their values, and the rows made from them: checked before any is allocated (a deflated entry can hold far more than its file).
        MemoryGuard.Require(count * (info.ItemSize + 16.0), $"Reading {end - first:#,0} rows of {info.Columns:#,0} values from '{name}'");
        var bytes = new byte[count * info.ItemSize];
        if (!Fill(stream, bytes)) throw bad(name, "the file is shorter than its header says.");
        var data = new double[count];
        for (int i = 0; i < data.Length; i++)
        {
            var at = bytes.AsSpan(i * info.ItemSize, info.ItemSize);
            data[i] = info.Descr switch
            {
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(at),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(at),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(at),
                _ => BinaryPrimitives.ReadInt32LittleEndian(at),
            };
        }
        return data;
    }

    private static bool Fill(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0) return false;
            read += n;
        }
        return true;
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

using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace RnnLinearization.Core;

/// <summary>
/// Writes named arrays stacked along a stream of records to a NumPy .npz, without holding the stream: each array's
/// rows go to a temporary file as they come, and the .npz (one .npy per array, its first dimension the number of
/// records) is assembled at the end under a temporary name and moved into place. Every record must give an array
/// the same shape; a name missing from a record (a null) drops that array, said in <see cref="Dropped"/>.
/// </summary>
public sealed class NpzWriter : IDisposable
{
    private sealed class Column
    {
        public required string Dtype;
        public required long[] Shape;          // of one record
        public FileStream? Data;
        public List<string>? Strings;          // strings are small: kept, written as fixed-width unicode at the end
    }

    private readonly string _path;
    private readonly string _parts;
    private readonly Dictionary<string, Column> _columns = new();
    private readonly List<string> _order = new();
    private readonly HashSet<string> _dropped = new();
    private readonly HashSet<string> _absent = new();   // null in every record so far: no array, and nothing to warn about
    private long _count;

    public NpzWriter(string path)
    {
        _path = path;
        _parts = TemporaryFiles.Claim(path, "parts");
        Directory.CreateDirectory(_parts);
    }

    /// <summary>Arrays dropped because a record lacked them, or had them in another shape.</summary>
    public IReadOnlyCollection<string> Dropped => _dropped;
    public long Count => _count;

    /// <summary>One record: name to value (long, int, double, Complex, bool, string, double[], double[][], Complex[], Complex[][] as columns of a matrix).</summary>
    public void Add(IEnumerable<(string Name, object? Value)> fields)
    {
        var seen = new HashSet<string>();
        foreach (var (name, value) in fields)
        {
            if (_dropped.Contains(name)) continue;
            seen.Add(name);
            if (value is null && !_columns.ContainsKey(name))
            {
                if (_count == 0) _absent.Add(name);
                continue;
            }
            if (_absent.Remove(name) && _count > 0) { Drop(name); continue; }   // null in the records before
            var (dtype, shape, write) = Encode(value);
            if (dtype is null) { Drop(name); continue; }
            if (!_columns.TryGetValue(name, out var column))
            {
                if (_count > 0) { Drop(name); continue; }   // absent from the records before
                column = _columns[name] = new Column { Dtype = dtype, Shape = shape };
                _order.Add(name);
                if (dtype == "<U") column.Strings = new List<string>();
                else column.Data = new FileStream(Path.Combine(_parts, _order.Count + ".bin"), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            }
            if (column.Dtype != dtype || !column.Shape.SequenceEqual(shape)) { Drop(name); continue; }
            if (column.Strings is not null) column.Strings.Add(value!.ToString()!);
            else write!(column.Data!);
        }
        foreach (var name in _order.ToArray())
            if (!seen.Contains(name)) Drop(name);
        _count++;
    }

    private void Drop(string name)
    {
        _dropped.Add(name);
        if (_columns.Remove(name, out var c)) c.Data?.Dispose();
        _order.Remove(name);
    }

    private static (string? Dtype, long[] Shape, Action<Stream>? Write) Encode(object? value)
    {
        switch (value)
        {
            case double d: return ("<f8", Array.Empty<long>(), s => F8(s, d));
            case Complex c: return ("<c16", Array.Empty<long>(), s => C16(s, c));
            case long or int: return ("<i8", Array.Empty<long>(), s => I8(s, Convert.ToInt64(value)));
            case bool b: return ("|b1", Array.Empty<long>(), s => s.WriteByte(b ? (byte)1 : (byte)0));
            case string or Enum: return ("<U", Array.Empty<long>(), null);
            case double[] v: return ("<f8", new long[] { v.Length }, s => { foreach (var x in v) F8(s, x); });
            case double[][] m when m.Length > 0 && m.All(r => r is not null && r.Length == m[0].Length):
                return ("<f8", new long[] { m.Length, m[0].Length }, s => { foreach (var r in m) foreach (var x in r) F8(s, x); });
            case Complex[] c: return ("<c16", new long[] { c.Length }, s => { foreach (var x in c) C16(s, x); });
            case Complex[][] cols when cols.Length > 0 && cols.All(r => r is not null && r.Length == cols[0].Length):
                // Columns (eigenvectors) stored as a matrix whose column k is cols[k], as torch.linalg.eig returns V.
                return ("<c16", new long[] { cols[0].Length, cols.Length }, s =>
                {
                    for (int i = 0; i < cols[0].Length; i++) foreach (var col in cols) C16(s, col[i]);
                });
            default: return (null, Array.Empty<long>(), null);
        }
    }

    private static void F8(Stream s, double v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); s.Write(b); }
    private static void I8(Stream s, long v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); s.Write(b); }
    private static void C16(Stream s, Complex v) { F8(s, v.Real); F8(s, v.Imaginary); }

    /// <summary>Assembles the .npz (through <see cref="AtomicFile"/>: under a temporary name, moved into place).</summary>
    public void Complete(string? noClobberId = null)
    {
        if (_count == 0 || _order.Count == 0)
            throw new RnnException("NoResultsToWrite", RnnErrorKind.InvalidArgument, "There are no results with arrays to write.");
        AtomicFile.Write(_path, file =>
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var name in _order)
            {
                var c = _columns[name];
                using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                var shape = new[] { _count }.Concat(c.Shape).ToArray();
                if (c.Strings is not null)
                {
                    int width = Math.Max(1, c.Strings.Max(t => t.Length));
                    Npy.Header(entry, $"<U{width}", shape);
                    var b = new byte[4];
                    foreach (var t in c.Strings)
                        for (int i = 0; i < width; i++) { BinaryPrimitives.WriteInt32LittleEndian(b, i < t.Length ? t[i] : 0); entry.Write(b); }
                }
                else
                {
                    Npy.Header(entry, c.Dtype, shape);
                    c.Data!.Position = 0;
                    c.Data.CopyTo(entry);
                }
            }
        }, noClobberId);
    }

    public void Dispose()
    {
        foreach (var c in _columns.Values) c.Data?.Dispose();
        TemporaryFiles.Release(_parts);
    }
}

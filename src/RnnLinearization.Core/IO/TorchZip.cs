using System.IO.Compression;
using System.Text;

namespace RnnLinearization.Core;

/// <summary>Where the bytes of a file's storages are, for tensors read when asked for.</summary>
internal interface IStorageSource : IDisposable
{
    /// <summary>The storage's root bytes, little-endian, at least (BaseOffset + Count) elements long.</summary>
    byte[] Bytes(PickleStorage storage);
}

/// <summary>
/// torch.save's zip format (PyTorch 1.6 to 2.x), read as PyTorch reads it: the archive's root folder is its first
/// entry's, the pickle is root/data.pkl, each storage is root/data/&lt;key&gt; (raw bytes, whatever device the
/// location tag names), and root/byteorder says "little" or "big". Entries with the same name are refused (readers
/// disagree on which one counts).
/// </summary>
internal sealed class TorchZip : IStorageSource
{
    private readonly ZipArchive _zip;
    private readonly string _path, _root;
    private readonly ReadLimits _limits;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PickleStorage> _storages = new(StringComparer.Ordinal);
    private bool _bigEndian;

    private TorchZip(Stream file, string path, ReadLimits limits)
    {
        _path = path;
        _limits = limits;
        _zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
        // PyTorch's reader (miniz) finds names without regard to case: two that differ only in case are one name twice.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in _zip.Entries)
        {
            if (!seen.Add(e.FullName)) throw limits.Duplicate($"its zip holds two entries named '{e.FullName}'");
            _entries[e.FullName] = e;
        }
        string first = _zip.Entries.Count > 0 ? _zip.Entries[0].FullName : "";
        int slash = first.IndexOf('/');
        _root = slash > 0 ? first[..(slash + 1)] : throw ModelFile.Unreadable(path, "its zip has no root folder: it was not written by torch.save.");
        // As PyTorch's reader: every record in the root folder, and a version record.
        if (_entries.Keys.FirstOrDefault(k => !k.StartsWith(_root, StringComparison.Ordinal)) is { } stray)
            throw ModelFile.Unreadable(path, $"its zip holds '{stray}' outside its root folder '{_root}' (PyTorch refuses it too).");
        if (!_entries.ContainsKey(_root + "version") && !_entries.ContainsKey(_root + ".data/version"))
            throw ModelFile.Unreadable(path, "its zip has no version record: it was not written by torch.save (PyTorch refuses it too).");
    }

    /// <summary>True for a TorchScript archive (code beside the pickles), which only libtorch reads.</summary>
    public bool IsScript => _entries.Keys.Any(k => k.StartsWith(_root + "code/", StringComparison.Ordinal)) || _entries.ContainsKey(_root + "constants.pkl");

    public static TorchZip Open(Stream file, string path, ReadLimits limits)
    {
        try { return new TorchZip(file, path, limits); }
        catch (InvalidDataException ex) { throw ModelFile.Unreadable(path, $"the zip is damaged (truncated or corrupt): {ex.Message}"); }
    }

    /// <summary>Runs the pickle and returns what it built, with the calls it would make in Python that were not refused.</summary>
    public (object? Value, List<string> Warnings) Load()
    {
        if (!_entries.TryGetValue(_root + "data.pkl", out var pickle))
            throw ModelFile.Unreadable(_path, $"the zip holds no {_root}data.pkl: it was not written by torch.save.");
        if (pickle.Length > 1L << 30) throw _limits.TooLarge($"its data.pkl claims {MemoryGuard.Size(pickle.Length)}");
        _limits.ChargePickle(pickle.Length);
        if (_entries.TryGetValue(_root + "byteorder", out var order))
        {
            var text = order.Length <= 16 ? Encoding.ASCII.GetString(Read(order, order.Length)) : "";
            _bigEndian = text switch
            {
                "little" => false,
                "big" => true,
                _ => throw ModelFile.Unreadable(_path, "its byteorder record is neither 'little' nor 'big' (PyTorch refuses it too)."),
            };
        }
        using var stream = new MemoryStream(Read(pickle, pickle.Length), writable: false);
        var unpickler = new Unpickler(stream, _path, _limits, Persistent);
        return (unpickler.Load(), unpickler.Warnings.ToList());
    }

    /// <summary>('storage', storage type, key, location, numel): the location (cpu, cuda:0) is only a tag.</summary>
    private object Persistent(object? pid)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage" || t[2] is not string key || t[4] is not long count || count < 0)
            throw ModelFile.Unreadable(_path, "its pickle refers to data in a form torch.save does not write.");
        var type = StorageType(t[1], _path);
        if (_storages.TryGetValue(key, out var known))
            return known.Type == type && known.Count == count ? known
                : throw _limits.Inconsistent($"storage '{key}' is described twice, differently");
        if (!_entries.TryGetValue($"{_root}data/{key}", out var entry))
            throw ModelFile.Unreadable(_path, $"storage '{key}' is missing from the zip: the file is truncated or corrupt.");
        long bytes = _limits.Product(count, type.Size, $"storage '{key}'");
        if (bytes > entry.Length)
            throw ModelFile.Unreadable(_path, $"storage '{key}' holds {entry.Length:#,0} bytes, not the {bytes:#,0} its {count:#,0} elements need: the file is truncated or corrupt.");
        return _storages[key] = new PickleStorage(key, type, count);
    }

    /// <summary>A storage's class as torch.save names it (torch.FloatStorage, ...); not a string or a dtype.</summary>
    internal static TensorType StorageType(object? type, string path) =>
        type is PickleGlobal { Module: "torch", Name: var name } && name.EndsWith("Storage", StringComparison.Ordinal) && TensorType.Find(name) is { } found ? found
            : throw ModelFile.Unreadable(path, $"a storage has the type {type ?? "None"}, which is not a storage class torch.save writes.");

    public byte[] Bytes(PickleStorage storage)
    {
        long n = storage.Count * storage.Type.Size;   // checked when the storage was described
        if (n > Array.MaxLength) throw _limits.TooLarge($"storage '{storage.Key}' is {MemoryGuard.Size(n)}, more than one array holds");
        var bytes = Read(_entries[$"{_root}data/{storage.Key}"], n);
        // Swapped by the storage's own type, as PyTorch swaps it (a tensor that retypes it does not change that).
        if (_bigEndian) ModelFile.SwapBytes(bytes, _storages[storage.Key].Type.Size);
        return bytes;
    }

    private byte[] Read(ZipArchiveEntry entry, long length)
    {
        try
        {
            var buffer = new byte[length];
            using var stream = entry.Open();
            int read = 0;
            while (read < length)
            {
                _limits.Token.ThrowIfCancellationRequested();
                int n = stream.Read(buffer, read, (int)Math.Min(length - read, 1 << 20));
                if (n == 0) throw ModelFile.Unreadable(_path, $"'{entry.FullName}' is shorter than the zip says: the file is truncated or corrupt.");
                read += n;
            }
            return buffer;
        }
        catch (InvalidDataException ex) { throw ModelFile.Unreadable(_path, $"'{entry.FullName}' is damaged (truncated or corrupt): {ex.Message}"); }
    }

    /// <summary>
    /// Checks every entry of an archive against the CRC-32 its zip directory records. libtorch's TorchScript loader
    /// ends the process on some errors in a damaged archive's code (TorchSharp cannot catch them), so a TorchScript
    /// file is checked here first: a byte changed anywhere in it is refused before libtorch sees it.
    /// </summary>
    public static void VerifyChecksums(byte[] archive, string path)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(archive, writable: false), ZipArchiveMode.Read);
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in zip.Entries)
            {
                if (!names.Add(entry.FullName)) throw ReadLimits.DuplicateRecord(path, $"its zip holds two entries named '{entry.FullName}'");
                if (entry.Length > 1L << 30) throw ModelFile.Unreadable(path, $"'{entry.FullName}' claims {entry.Length} bytes.");
                using var stream = entry.Open();
                var data = new byte[entry.Length];
                stream.ReadExactly(data);
                if (Crc32(data) != entry.Crc32)
                    throw ModelFile.Unreadable(path, $"'{entry.FullName}' does not match its checksum: the file is damaged.");
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw ModelFile.Unreadable(path, $"the file is truncated or corrupt ({ex.Message})");
        }
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The zip format's CRC-32 (IEEE 802.3, reflected).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    public void Dispose() => _zip.Dispose();
}

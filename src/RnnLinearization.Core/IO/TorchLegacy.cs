using System.Buffers.Binary;
using System.Numerics;

namespace RnnLinearization.Core;

/// <summary>
/// torch.save's legacy format (before PyTorch 1.6, and later with _use_new_zipfile_serialization=False), read as
/// torch.serialization._legacy_load reads it: five pickles in a row (the magic number, the protocol version 1001, the
/// system info, the object, the sorted storage keys), then each storage in the keys' order as its element count
/// (int64) and its raw little-endian bytes. Storages are tagged with a location (cpu, cuda:0), which is only a tag;
/// a whole module's classes come as persistent ids ('module', class, source file, source).
/// </summary>
internal sealed class TorchLegacy : IStorageSource
{
    private static readonly BigInteger Magic = BigInteger.Parse("119547037146038801333356");   // 0x1950a86a20f9469cfc6c
    private const long ProtocolVersion = 1001;

    private readonly Stream _file;
    private readonly string _path;
    private readonly ReadLimits _limits;
    private readonly Dictionary<string, PickleStorage> _roots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dataAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PickleStorage> _views = new(StringComparer.Ordinal);

    private TorchLegacy(Stream file, string path, ReadLimits limits)
    {
        _file = file;
        _path = path;
        _limits = limits;
    }

    public static TorchLegacy Open(Stream file, string path, ReadLimits limits) => new(file, path, limits);

    public (object? Value, List<string> Warnings) Load()
    {
        var buffered = new BufferedStream(_file, 1 << 16);
        // The four header pickles hold plain values only: a name in one of them is refused.
        object? Next(Func<object?, object?>? persistent = null, List<string>? warnings = null)
        {
            var u = new Unpickler(buffered, _path, _limits, persistent ?? (_ => throw ModelFile.Unreadable(_path, "a header pickle refers to data.")))
                { AllowNames = persistent is not null };
            var v = u.Load();
            warnings?.AddRange(u.Warnings);
            return v;
        }
        if (Next() is not BigInteger magic || magic != Magic)
            throw new RnnException("UnknownModelFormat", RnnErrorKind.InvalidData,
                $"'{_path}' is a Python pickle, but not one torch.save wrote (no torch.save magic number): save the model with torch.save(model.state_dict(), path).");
        if (Next() is not long version || version != ProtocolVersion)
            throw ModelFile.Unreadable(_path, "its legacy torch.save header has an unknown protocol version.");
        Next();   // system info: byte order and type sizes of the saving machine; storages are always written little-endian
        var warnings = new List<string>();
        var value = Next(Persistent, warnings);
        if (Next() is not List<object?> keys) throw ModelFile.Unreadable(_path, "its list of storages is missing: the file is truncated or corrupt.");
        long at = buffered.Position;
        foreach (var item in keys)
        {
            string key = Key(item);
            if (!_roots.TryGetValue(key, out var storage))
                throw ModelFile.Unreadable(_path, $"it lists storage '{key}', which its pickle never names (PyTorch refuses it too).");
            if (!_dataAt.TryAdd(key, 0)) throw _limits.Duplicate($"it lists storage '{key}' twice");
            if (_file.Length - at < 8) throw ModelFile.Unreadable(_path, "its storages end early: the file is truncated or corrupt.");
            var head = new byte[8];
            _file.Position = at;
            _file.ReadExactly(head);
            long count = BinaryPrimitives.ReadInt64LittleEndian(head);
            if (count != storage.Count)
                throw ModelFile.Unreadable(_path, $"storage '{key}' has {count:#,0} elements where its pickle says {storage.Count:#,0} (PyTorch refuses it too).");
            _dataAt[key] = at + 8;
            at = _limits.Sum(at + 8, _limits.Product(count, storage.Type.Size, $"storage '{key}'"), $"storage '{key}'");
            if (at > _file.Length) throw ModelFile.Unreadable(_path, $"storage '{key}' runs past the end of the file: the file is truncated or corrupt.");
        }
        return (value, warnings);
    }

    private string Key(object? item) => item switch
    {
        string s => s,
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw ModelFile.Unreadable(_path, "a storage key is neither a string nor a number."),
    };

    /// <summary>('storage', type, root key, location, numel, view metadata) or ('module', class, source file, source).</summary>
    private object? Persistent(object? pid)
    {
        if (pid is object?[] { Length: >= 2 } m && m[0] is "module") return m[1];
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage" || t[4] is not long count || count < 0)
            throw ModelFile.Unreadable(_path, "its pickle refers to data in a form torch.save does not write.");
        string key = Key(t[2]);
        var type = TorchZip.StorageType(t[1], _path);
        if (!_roots.TryGetValue(key, out var root)) _roots[key] = root = new PickleStorage(key, type, count);
        else if (root.Type != type) throw _limits.Inconsistent($"storage '{key}' is described twice, with different types");
        if (t.Length < 6 || t[5] is null) return root;
        // (view key, offset, size): a view of the root storage, from the oldest versions of the format. As
        // _legacy_load, the first description of a view key is the view.
        if (t[5] is not object?[] { Length: 3 } view || view[0] is not string viewKey || view[1] is not long offset || view[2] is not long size
            || offset < 0 || size < 0 || _limits.Sum(offset, size, "a storage view") > root.Count)
            throw _limits.Inconsistent($"a view of storage '{key}' lies outside it");
        if (!_views.TryGetValue(viewKey, out var known)) _views[viewKey] = known = new PickleStorage(key, type, size, offset);
        return known;
    }

    public byte[] Bytes(PickleStorage storage)
    {
        if (!_dataAt.TryGetValue(storage.Key, out long at))
            throw ModelFile.Unreadable(_path, $"storage '{storage.Key}' is named in its pickle but its data is not in the file.");
        var root = _roots[storage.Key];
        long n = root.Count * root.Type.Size;   // checked when the storages were listed
        if (n > Array.MaxLength) throw _limits.TooLarge($"storage '{storage.Key}' is {MemoryGuard.Size(n)}, more than one array holds");
        var bytes = new byte[n];
        _file.Position = at;
        _file.ReadExactly(bytes);
        return bytes;
    }

    public void Dispose() => _file.Dispose();
}

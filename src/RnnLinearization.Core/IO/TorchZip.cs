using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace RnnLinearization.Core;

/// <summary>
/// Reads the floating-point tensors of a torch.save zip file (PyTorch 1.6 to 2.x) without running anything: a small
/// unpickler that builds dicts, lists, tuples and tensors, and constructs nothing else. Storages are read as raw
/// little-endian data whatever device they were saved from (a "cuda:0" location is only a tag), and every tensor is
/// a view (offset, sizes, strides) into its storage, shared or not: cuDNN's flattened RNN weights are views into one
/// buffer. Nested dicts (training checkpoints) are flattened into dotted keys ("model_state_dict.rnn.weight_ih_l0");
/// optimizer and scheduler state is skipped. A file that asks to call a function a state_dict never needs
/// (os.system, eval, ...) is refused, and nothing it names is ever called.
/// </summary>
internal static class TorchZip
{
    /// <summary>The floating tensors of the file under flattened keys.</summary>
    public static Dictionary<string, Parameter> Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var pickle = zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
            .OrderBy(e => e.FullName.Length).FirstOrDefault()
            ?? throw Unreadable(path, "the zip holds no data.pkl: it was not written by torch.save.");
        string root = pickle.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, ZipArchiveEntry>();
        foreach (var e in zip.Entries)
            if (e.FullName.StartsWith(root + "data/", StringComparison.Ordinal))
                storages[e.FullName[(root.Length + 5)..]] = e;
        if (pickle.Length > 1L << 30) throw Unreadable(path, "its data.pkl is over 1 GB.");
        if (zip.GetEntry(root + "byteorder") is { } order && order.Length < 16
            && Encoding.ASCII.GetString(ReadAll(order, (int)order.Length, path)).Trim() is var endian && endian != "little")
            throw Unreadable(path, $"its tensors are stored {endian}-endian; load and save it again on a little-endian machine.");
        var bytes = ReadAll(pickle, (int)pickle.Length, path);
        var value = new Unpickler(bytes, path, key => storages.TryGetValue(key, out var entry) ? entry : null).Load();
        if (value is PickleOpaque whole)
            throw new RnnException("PickledModule", RnnErrorKind.InvalidData,
                $"'{path}' holds a whole pickled object ({whole.Type}), written by torch.save(model), which only its Python class can load. " +
                "Save the model's state_dict instead: torch.save(model.state_dict(), path).");
        var result = new Dictionary<string, Parameter>();
        Flatten(value, "", result);
        return result;
    }

    internal static byte[] ReadAll(ZipArchiveEntry entry, int length, string path)
    {
        var buffer = new byte[length];
        using var stream = entry.Open();
        int read = 0;
        while (read < length)
        {
            int n = stream.Read(buffer, read, length - read);
            if (n == 0) throw Unreadable(path, $"'{entry.FullName}' is shorter than the zip says: the file is truncated or corrupt.");
            read += n;
        }
        return buffer;
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
            foreach (var entry in zip.Entries)
            {
                if (entry.Length > 1L << 30) throw Unreadable(path, $"'{entry.FullName}' claims {entry.Length} bytes.");
                if (Crc32(ReadAll(entry, (int)entry.Length, path)) != entry.Crc32)
                    throw Unreadable(path, $"'{entry.FullName}' does not match its checksum: the file is damaged.");
            }
        }
        catch (InvalidDataException ex) { throw Unreadable(path, $"the file is truncated or corrupt ({ex.Message})"); }
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

    internal static RnnException Unreadable(string path, string why) =>
        new("UnreadableModelFile", RnnErrorKind.InvalidData, $"'{path}' is a zip file but cannot be read as a torch.save file: {why}");

    /// <summary>Dicts nest into dotted keys; optimizer, scheduler and grad-scaler state is skipped (it holds no model).</summary>
    private static void Flatten(object? value, string prefix, Dictionary<string, Parameter> into)
    {
        switch (value)
        {
            case PickleTensor { Parameter: { } p }:
                if (prefix.Length > 0) into[prefix[..^1]] = p;
                break;
            case PickleDict dict:
                foreach (var (key, item) in dict.Items)
                {
                    string name = key switch { string s => s, long or int or BigInteger => Convert.ToString(key, System.Globalization.CultureInfo.InvariantCulture)!, _ => "" };
                    if (name.Length == 0 || name.Contains("optim", StringComparison.OrdinalIgnoreCase)
                        || name.Contains("scheduler", StringComparison.OrdinalIgnoreCase) || name.Contains("scaler", StringComparison.OrdinalIgnoreCase))
                        continue;
                    Flatten(item, prefix + name + ".", into);
                }
                break;
        }
    }
}

/// <summary>A dict as the pickle built it, in insertion order.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _at = new();

    public List<(object Key, object? Value)> Items { get; } = new();

    /// <summary>Sets a key, keeping the first insertion's place (a lookup, not a scan: checkpoints hold thousands of keys).</summary>
    public void Set(object key, object? value)
    {
        if (_at.TryGetValue(key, out int at)) Items[at] = (key, value);
        else
        {
            _at[key] = Items.Count;
            Items.Add((key, value));
        }
    }
}

/// <summary>A name the pickle refers to (module.name); never imported or called.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>An object the pickle builds that is not a tensor or a container: kept opaque, never constructed.</summary>
internal sealed record PickleOpaque(PickleGlobal Type);

/// <summary>A storage: its element type and where its bytes are.</summary>
internal sealed record PickleStorage(string Type, int ItemSize, System.IO.Compression.ZipArchiveEntry? Entry, long Count);

/// <summary>A tensor; Parameter is null for non-floating types (counters, masks of ints), which no model reads.</summary>
internal sealed record PickleTensor(Parameter? Parameter);

/// <summary>
/// The subset of pickle (protocols 2 to 5) that torch.save writes for dicts of tensors, lists, tuples, numbers and
/// strings. Nothing the pickle names is ever imported or called: REDUCE is interpreted for OrderedDict and PyTorch's
/// tensor and parameter rebuilders, and every other object (numpy arrays, paths, hyper-parameter objects in a
/// checkpoint) stays an opaque value; a file that asks to call something that runs code (os.system, eval, ...) is
/// refused outright, so what it would have run on torch.load is named to the user.
/// </summary>
internal sealed class Unpickler
{
    private static readonly object Mark = new();
    private readonly byte[] _data;
    private readonly string _path;
    private readonly Func<string, ZipArchiveEntry?> _storage;
    private readonly List<object?> _stack = new();
    private readonly Dictionary<long, object?> _memo = new();
    private readonly Dictionary<string, PickleStorage> _storages = new();
    private int _at;

    public Unpickler(byte[] data, string path, Func<string, ZipArchiveEntry?> storage)
    {
        _data = data;
        _path = path;
        _storage = storage;
    }

    private RnnException Bad(string why) => TorchZip.Unreadable(_path, why);

    private byte Byte() => _at < _data.Length ? _data[_at++] : throw Bad("its pickle ends early: the file is truncated or corrupt.");

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _at) throw Bad("its pickle ends early: the file is truncated or corrupt.");
        var span = _data.AsSpan(_at, (int)n);
        _at += (int)n;
        return span;
    }

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _at);
        if (end < 0) throw Bad("its pickle ends early: the file is truncated or corrupt.");
        var s = Encoding.ASCII.GetString(_data, _at, end - _at);
        _at = end + 1;
        return s;
    }

    private object? Pop()
    {
        if (_stack.Count == 0) throw Bad("its pickle is malformed (stack underflow).");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Top() => _stack.Count > 0 ? _stack[^1] : throw Bad("its pickle is malformed (stack underflow).");

    private List<object?> PopMark()
    {
        int m = _stack.LastIndexOf(Mark);
        if (m < 0) throw Bad("its pickle is malformed (no mark).");
        var items = _stack.GetRange(m + 1, _stack.Count - m - 1);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    public object? Load()
    {
        while (true)
        {
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break;                                                      // PROTO
                case 0x95: Take(8); break;                                                     // FRAME
                case (byte)'.': return Pop();                                                  // STOP
                case (byte)'(': _stack.Add(Mark); break;                                       // MARK
                case (byte)'0': Pop(); break;                                                  // POP
                case (byte)'1': PopMark(); break;                                              // POP_MARK
                case (byte)'2': _stack.Add(Top()); break;                                      // DUP
                case (byte)'N': _stack.Add(null); break;
                case 0x88: _stack.Add(true); break;
                case 0x89: _stack.Add(false); break;
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': _stack.Add((long)Byte()); break;
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: _stack.Add(Long(Take(Byte()))); break;                              // LONG1
                case 0x8b: _stack.Add(Long(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;   // LONG4
                case (byte)'I': _stack.Add(Int(Line())); break;
                case (byte)'L': _stack.Add(Int(Line().TrimEnd('L'))); break;
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'F': _stack.Add(double.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture)); break;
                case (byte)'X': _stack.Add(Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case 0x8c: _stack.Add(Encoding.UTF8.GetString(Take(Byte()))); break;          // SHORT_BINUNICODE
                case 0x8d: _stack.Add(Encoding.UTF8.GetString(Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case (byte)'T': _stack.Add(Encoding.Latin1.GetString(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case (byte)'U': _stack.Add(Encoding.Latin1.GetString(Take(Byte()))); break;
                case (byte)'B': _stack.Add(Take(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))).ToArray()); break;
                case (byte)'C': _stack.Add(Take(Byte()).ToArray()); break;
                case 0x8e: _stack.Add(Take((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))).ToArray()); break;
                case (byte)')': _stack.Add(Array.Empty<object?>()); break;                    // EMPTY_TUPLE
                case (byte)'t': _stack.Add(PopMark().ToArray()); break;                        // TUPLE
                case 0x85: _stack.Add(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b, c }); break; }
                case (byte)']': _stack.Add(new List<object?>()); break;                        // EMPTY_LIST
                case (byte)'l': _stack.Add(PopMark()); break;                                  // LIST
                case (byte)'a': { var v = Pop(); AsList(Top()).Add(v); break; }               // APPEND
                case (byte)'e': { var items = PopMark(); AsList(Top()).AddRange(items); break; }   // APPENDS
                case (byte)'}': _stack.Add(new PickleDict()); break;                           // EMPTY_DICT
                case (byte)'d': _stack.Add(Dict(PopMark())); break;                            // DICT
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Top()).Set(k!, v); break; }   // SETITEM
                case (byte)'u': { var items = PopMark(); var d = AsDict(Top()); for (int i = 0; i + 1 < items.Count; i += 2) d.Set(items[i]!, items[i + 1]); break; }
                case 0x8f: _stack.Add(new List<object?>()); break;                             // EMPTY_SET
                case 0x90: { var items = PopMark(); AsList(Top()).AddRange(items); break; }   // ADDITEMS
                case 0x91: _stack.Add(PopMark()); break;                                       // FROZENSET
                case (byte)'c': _stack.Add(new PickleGlobal(Line(), Line())); break;           // GLOBAL
                case 0x93: { var name = Pop() as string; var module = Pop() as string; _stack.Add(new PickleGlobal(module ?? "", name ?? "")); break; }
                case (byte)'R': { var args = Pop(); var f = Pop(); _stack.Add(Reduce(f, args as object?[] ?? Array.Empty<object?>())); break; }
                case (byte)'b': { var state = Pop(); Build(Top(), state); break; }             // BUILD
                case 0x81: { Pop(); var cls = Pop(); _stack.Add(New(cls)); break; }            // NEWOBJ
                case 0x92: { Pop(); Pop(); var cls = Pop(); _stack.Add(New(cls)); break; }     // NEWOBJ_EX
                case (byte)'q': _memo[Byte()] = Top(); break;                                  // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Top(); break;
                case (byte)'p': _memo[long.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture)] = Top(); break;
                case 0x94: _memo[_memo.Count] = Top(); break;                                  // MEMOIZE
                case (byte)'h': _stack.Add(Memo(Byte())); break;                               // BINGET
                case (byte)'j': _stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case (byte)'g': _stack.Add(Memo(long.Parse(Line(), System.Globalization.CultureInfo.InvariantCulture))); break;
                case (byte)'Q': _stack.Add(Persistent(Pop())); break;                          // BINPERSID
                default: throw Bad($"its pickle uses opcode 0x{op:x2}, which a saved state_dict does not.");
            }
        }
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad("its pickle is malformed (unknown memo key).");

    private static object Long(ReadOnlySpan<byte> bytes)
    {
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;
    }

    private static object Int(string text) => text switch
    {
        "01" => true,
        "00" => false,
        _ => long.TryParse(text, out var v) ? v : BigInteger.Parse(text),
    };

    private List<object?> AsList(object? o) => o as List<object?> ?? throw Bad("its pickle appends to something that is not a list.");
    private PickleDict AsDict(object? o) => o as PickleDict ?? throw Bad("its pickle sets an item of something that is not a dict.");

    private static PickleDict Dict(List<object?> items)
    {
        var d = new PickleDict();
        for (int i = 0; i + 1 < items.Count; i += 2) d.Set(items[i]!, items[i + 1]);
        return d;
    }

    private static void Build(object? target, object? state)
    {
        // A dict's state merges into it; other objects stay opaque (their state is not needed).
        if (target is PickleDict d && state is PickleDict s)
            foreach (var (k, v) in s.Items) d.Set(k, v);
    }

    private object New(object? cls) => cls is PickleGlobal g
        ? g is { Module: "collections", Name: "OrderedDict" or "defaultdict" } ? new PickleDict() : new PickleOpaque(g)
        : throw Bad("its pickle builds an object of no class.");

    /// <summary>Known functions only; they are interpreted here, never called.</summary>
    private object? Reduce(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal f) throw Bad("its pickle calls something that is not a function.");
        switch (f.Module, f.Name)
        {
            case ("collections", "OrderedDict"):
            case ("collections", "defaultdict"):
                return new PickleDict();
            case ("torch._utils", "_rebuild_tensor_v2"):
            case ("torch._utils", "_rebuild_tensor"):
                return Tensor(args);
            case ("torch._utils", "_rebuild_parameter"):
            case ("torch._utils", "_rebuild_parameter_with_state"):
                return args.Length > 0 ? args[0] : null;
            default:
                if (RunsCode(f))
                    throw new RnnException("PickleCallRefused", RnnErrorKind.InvalidData,
                        $"'{_path}' asks to call {f} when it is loaded, which runs code and which a saved model never needs: it was refused and " +
                        "nothing was run. If the file is yours, save the model's state_dict alone: torch.save(model.state_dict(), path).");
                // Anything else a checkpoint may hold (numpy arrays and RNG states, paths, hyper-parameter objects) stays
                // opaque: it is never constructed, and no model weight is ever inside it.
                return f is { Module: "torch._tensor", Name: "_rebuild_from_type_v2" } && args.Length > 2
                    ? Reduce(args[0], args[2] as object?[] ?? Array.Empty<object?>())
                    : new PickleOpaque(f);
        }
    }

    private static readonly HashSet<string> CodeModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "runpy", "importlib", "pty", "code", "codeop", "ctypes",
        "pickle", "_pickle", "marshal", "webbrowser", "multiprocessing", "signal", "platform", "commands", "popen2", "pdb",
        "timeit", "trace", "profile", "cProfile", "asyncio", "threading", "_thread", "tempfile", "glob",
    };

    private static readonly HashSet<string> CodeBuiltins = new(StringComparer.Ordinal)
    {
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals", "vars", "input",
        "breakpoint", "exit", "quit", "help", "memoryview", "apply", "execfile", "file", "reload",
    };

    /// <summary>Callables whose only use in a pickle is to run code or touch the system: the file is refused outright.</summary>
    private static bool RunsCode(PickleGlobal f)
    {
        string root = f.Module.Split('.')[0];
        if (CodeModules.Contains(f.Module) || CodeModules.Contains(root)) return true;
        if (root is "builtins" or "__builtin__") return CodeBuiltins.Contains(f.Name);
        return root == "operator" && f.Name is "attrgetter" or "methodcaller" or "itemgetter";
    }

    private object Persistent(object? pid)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage" || t[2] is not string key || t[4] is not long count)
            throw Bad("its pickle refers to data in a form torch.save does not write.");
        if (_storages.TryGetValue(key, out var known)) return known;
        string type = t[1] is PickleGlobal g ? g.Name : t[1] as string ?? "";
        int size = type switch
        {
            "DoubleStorage" or "LongStorage" => 8,
            "FloatStorage" or "IntStorage" => 4,
            "HalfStorage" or "BFloat16Storage" or "ShortStorage" => 2,
            "CharStorage" or "ByteStorage" or "BoolStorage" => 1,
            _ => 0,
        };
        return _storages[key] = new PickleStorage(type, size, _storage(key), count);
    }

    /// <summary>A tensor: sizes and strides over its storage, every element checked to lie inside it; floating types only.</summary>
    private PickleTensor Tensor(object?[] args)
    {
        if (args.Length < 4 || args[0] is not PickleStorage storage || args[1] is not long offset
            || args[2] is not object?[] sizeItems || args[3] is not object?[] strideItems || sizeItems.Length != strideItems.Length)
            throw Bad("a tensor in it is described in a form torch.save does not write.");
        var sizes = sizeItems.Select(v => v is long l ? l : -1).ToArray();
        var strides = strideItems.Select(v => v is long l ? l : -1).ToArray();
        if (storage.Type is not ("FloatStorage" or "DoubleStorage" or "HalfStorage" or "BFloat16Storage")) return new PickleTensor(null);
        if (sizes.Any(s => s < 0) || strides.Any(s => s < 0) || offset < 0)
            throw Bad("a tensor in it has a negative size, stride or offset.");
        if (storage.Entry is null) throw Bad("a tensor's data is missing from the zip: the file is truncated or corrupt.");
        long count = 1, last = offset;
        foreach (var (s, st) in sizes.Zip(strides))
        {
            if (s > int.MaxValue || (count *= s) > 1L << 31) throw Bad("a tensor in it is larger than 2^31 elements.");
            if (s > 0) last += (s - 1) * st;
        }
        if (count > 0 && (last >= storage.Count || storage.Count * storage.ItemSize > storage.Entry.Length))
            throw Bad($"a tensor in it reaches element {last} of a storage of {Math.Min(storage.Count, storage.Entry.Length / Math.Max(1, storage.ItemSize))}: the file is truncated or corrupt.");
        var raw = StorageBytes(storage);
        var data = new double[count];
        var index = new long[sizes.Length];
        for (long i = 0; i < count; i++)
        {
            long at = offset;
            for (int d = 0; d < sizes.Length; d++) at += index[d] * strides[d];
            data[i] = Element(raw, at, storage);
            for (int d = sizes.Length - 1; d >= 0; d--)
            {
                if (++index[d] < sizes[d]) break;
                index[d] = 0;
            }
        }
        return new PickleTensor(new Parameter(sizes, data));
    }

    private readonly Dictionary<PickleStorage, byte[]> _bytes = new();

    private byte[] StorageBytes(PickleStorage s)
    {
        if (_bytes.TryGetValue(s, out var b)) return b;
        long n = s.Count * s.ItemSize;
        if (n > int.MaxValue) throw Bad("a storage in it is over 2 GB.");
        return _bytes[s] = TorchZip.ReadAll(s.Entry!, (int)n, _path);
    }

    private static double Element(byte[] raw, long at, PickleStorage s)
    {
        var span = raw.AsSpan((int)(at * s.ItemSize), s.ItemSize);
        return s.Type switch
        {
            "DoubleStorage" => BinaryPrimitives.ReadDoubleLittleEndian(span),
            "FloatStorage" => BinaryPrimitives.ReadSingleLittleEndian(span),
            "HalfStorage" => (double)BinaryPrimitives.ReadHalfLittleEndian(span),
            _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span) << 16),   // bfloat16: the high half of a float
        };
    }
}

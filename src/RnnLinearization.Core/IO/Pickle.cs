using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace RnnLinearization.Core;

/// <summary>A name the pickle refers to (module.name); never imported or called.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>
/// A dict as the pickle built it, in insertion order, with keys compared as Python compares them (1, 1.0 and True
/// are one key) and hashed with a per-process seed, so no file can make lookups quadratic. An OrderedDict also has
/// attributes (a BUILD state sets them, as Python does; torch keeps a state_dict's _metadata there).
/// </summary>
internal sealed class PickleDict
{
    private Dictionary<object, int>? _at;
    private List<(object Key, object? Value)>? _items;

    public PickleDict(bool plain) => Plain = plain;

    /// <summary>A dict or defaultdict, which has no attributes; false for an OrderedDict.</summary>
    public bool Plain { get; }

    public IReadOnlyList<(object Key, object? Value)> Items => _items ?? (IReadOnlyList<(object, object?)>)Array.Empty<(object, object?)>();

    public PickleDict? Attributes { get; set; }

    public int Count => _items?.Count ?? 0;

    /// <summary>Sets a key, keeping the first insertion's place (as Python's dict does).</summary>
    public void Set(object key, object? value)
    {
        _at ??= new Dictionary<object, int>(PickleKey.Comparer);
        _items ??= new List<(object, object?)>();
        key = PickleKey.Normalize(key);
        if (_at.TryGetValue(key, out int at)) _items[at] = (key, value);
        else
        {
            _at[key] = _items.Count;
            _items.Add((key, value));
        }
    }

    public object? Get(string key) => _at is not null && _at.TryGetValue(key, out int at) ? _items![at].Value : null;
}

/// <summary>An object the pickle builds that is not a container or tensor: its class and the attributes BUILD gave it; never constructed.</summary>
internal sealed class PickleObject
{
    public PickleObject(PickleGlobal type) => Type = type;

    public PickleGlobal Type { get; }

    /// <summary>The instance's __dict__ as BUILD set it (a module's _parameters, _modules, nonlinearity, ...).</summary>
    public PickleDict Attributes { get; } = new(plain: false);

    /// <summary>The items SETITEM gave it: an instance of a dict subclass (a checkpoint's AttrDict), as a dict.</summary>
    public PickleDict? Items { get; set; }

    /// <summary>The items APPEND gave it: an instance of a list subclass.</summary>
    public List<object?>? List { get; set; }
}

/// <summary>Dict keys as Python compares them, hashed safely.</summary>
internal static class PickleKey
{
    public static readonly IEqualityComparer<object> Comparer = new KeyComparer();

    /// <summary>bool and integral floats are the integers Python takes them for.</summary>
    public static object Normalize(object key) => key switch
    {
        bool b => b ? 1L : 0L,
        double d when Math.Floor(d) == d && d >= -9.2e18 && d <= 9.2e18 => (long)d,
        _ => key,
    };

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public new bool Equals(object? a, object? b) => (a, b) switch
        {
            (long x, long y) => x == y,
            (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
            (double x, double y) => x.Equals(y),
            (BigInteger x, BigInteger y) => x == y,
            _ => ReferenceEquals(a, b),   // tuples, objects and bytes by identity: never walked as names
        };

        // long and double hash all 64 bits through the process's random seed (long.GetHashCode folds the halves, so
        // k * (2^32 + 1) all collide); strings use .NET's randomised hash.
        public int GetHashCode(object o) => o switch
        {
            long v => HashCode.Combine((int)v, (int)(v >> 32)),
            double d => HashCode.Combine((int)BitConverter.DoubleToInt64Bits(d), (int)(BitConverter.DoubleToInt64Bits(d) >> 32)),
            string s => s.GetHashCode(),
            BigInteger v => Bytes(v.ToByteArray()),
            _ => RuntimeHelpers.GetHashCode(o),
        };

        private static int Bytes(byte[] bytes)
        {
            var h = new HashCode();
            h.AddBytes(bytes);
            return h.ToHashCode();
        }
    }
}

/// <summary>An element type of tensors, as torch's storages and safetensors name them; one instance per type.</summary>
internal sealed class TensorType
{
    /// <summary>One element, little-endian, as a double (exact for every type but int64 beyond 2^53).</summary>
    public delegate double ElementReader(ReadOnlySpan<byte> at);

    private TensorType(string name, int size, ElementReader? read)
    {
        Name = name;
        Size = size;
        Read = read ?? (_ => throw new InvalidOperationException($"{name} has no real value"));
        Real = read is not null;
    }

    public string Name { get; }
    public int Size { get; }
    public bool Real { get; }
    public ElementReader Read { get; }

    public static readonly TensorType
        Float64 = new("float64", 8, b => BinaryPrimitives.ReadDoubleLittleEndian(b)),
        Float32 = new("float32", 4, b => BinaryPrimitives.ReadSingleLittleEndian(b)),
        Float16 = new("float16", 2, b => (double)BinaryPrimitives.ReadHalfLittleEndian(b)),
        BFloat16 = new("bfloat16", 2, b => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16)),   // the high half of a float
        Int64 = new("int64", 8, b => BinaryPrimitives.ReadInt64LittleEndian(b)),
        Int32 = new("int32", 4, b => BinaryPrimitives.ReadInt32LittleEndian(b)),
        Int16 = new("int16", 2, b => BinaryPrimitives.ReadInt16LittleEndian(b)),
        Int8 = new("int8", 1, b => (sbyte)b[0]),
        UInt8 = new("uint8", 1, b => b[0]),
        Bool = new("bool", 1, b => b[0] != 0 ? 1 : 0),
        Complex64 = new("complex64", 8, null),
        Complex128 = new("complex128", 16, null);

    /// <summary>A type that is listed but has no values here (safetensors' U16, F8_E4M3, ...), sized one byte a unit of its data.</summary>
    public static TensorType Unread(string name) => new(name, 0, null);

    /// <summary>torch's storage class names (FloatStorage) and dtype names (float32), and safetensors' (F32).</summary>
    public static TensorType? Find(string name) => name switch
    {
        "DoubleStorage" or "float64" or "double" or "F64" => Float64,
        "FloatStorage" or "float32" or "float" or "F32" => Float32,
        "HalfStorage" or "float16" or "half" or "F16" => Float16,
        "BFloat16Storage" or "bfloat16" or "BF16" => BFloat16,
        "LongStorage" or "int64" or "long" or "I64" => Int64,
        "IntStorage" or "int32" or "int" or "I32" => Int32,
        "ShortStorage" or "int16" or "short" or "I16" => Int16,
        "CharStorage" or "int8" or "I8" => Int8,
        "ByteStorage" or "uint8" or "U8" or "UntypedStorage" => UInt8,
        "BoolStorage" or "bool" or "BOOL" => Bool,
        "ComplexFloatStorage" or "complex64" or "C64" => Complex64,
        "ComplexDoubleStorage" or "complex128" => Complex128,
        _ => null,
    };
}

/// <summary>A storage: its element type, its length in elements, and where the container finds its bytes.</summary>
internal sealed class PickleStorage
{
    public PickleStorage(string key, TensorType type, long count, long baseOffset = 0)
    {
        Key = key;
        Type = type;
        Count = count;
        BaseOffset = baseOffset;
    }

    public string Key { get; }
    public TensorType Type { get; }
    public long Count { get; }

    /// <summary>Elements before this storage in its root storage (the legacy format's storage views); 0 otherwise.</summary>
    public long BaseOffset { get; }
}

/// <summary>
/// A tensor as a view (offset, sizes, strides) into a storage, checked to lie inside it; values are read when asked
/// for. A BUILD may make it another view, as PyTorch's Tensor.__setstate__ does in place (files of PyTorch before 0.4).
/// </summary>
internal sealed class PickleTensor
{
    public PickleTensor(PickleStorage storage, long offset, long[] sizes, long[] strides)
    {
        Storage = storage;
        Offset = offset;
        Sizes = sizes;
        Strides = strides;
    }

    public PickleStorage Storage { get; private set; }
    public long Offset { get; private set; }
    public long[] Sizes { get; private set; }
    public long[] Strides { get; private set; }

    public void Become(PickleTensor other) => (Storage, Offset, Sizes, Strides) = (other.Storage, other.Offset, other.Sizes, other.Strides);
}

/// <summary>
/// The pickle machine (protocols 0 to 5) for what torch.save writes: dicts, lists, tuples, numbers, strings, tensors,
/// and whole modules as objects with attributes. Nothing the pickle names is ever imported or called: REDUCE is
/// interpreted for PyTorch's tensor rebuilders and a few containers, and every other object stays a name with its
/// attributes. A name whose import or call would run code or touch the system in Python (os.system, eval, torch.load,
/// pydoc's pager, logging's file handler, ...) is refused wherever it appears, and so is a state that would make Python
/// call something (a __setstate__ attribute, a tensor's state); any other name that is not plain data (numpy arrays,
/// paths, PyTorch's rebuilders and modules are) is reported in <see cref="Warnings"/>. Every object built is charged
/// to the file's <see cref="ReadLimits"/>, integers are bounded, and the stack, marks and memo are flat lists: no input
/// makes it recurse, hang or grow without bound.
/// </summary>
internal sealed class Unpickler
{
    private static readonly object Mark = new();
    private readonly Stream _data;
    private readonly string _path;
    private readonly ReadLimits _limits;
    private readonly Func<object?, object?> _persistent;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<object, object?> _memo = new(PickleKey.Comparer);
    private long _ops;

    /// <param name="persistent">What a persistent id stands for (torch.save's storages, the legacy format's module classes).</param>
    public Unpickler(Stream data, string path, ReadLimits limits, Func<object?, object?> persistent)
    {
        _data = data;
        _path = path;
        _limits = limits;
        _persistent = persistent;
    }

    /// <summary>Names the file would import or call in Python that are neither refused nor known to be data (the first 20).</summary>
    public IReadOnlyCollection<string> Warnings => _warnings;
    private readonly HashSet<string> _warnings = new(StringComparer.Ordinal);

    /// <summary>False for the legacy format's header pickles, which hold plain values only.</summary>
    public bool AllowNames { get; init; } = true;

    private RnnException Bad(string why) => ModelFile.Unreadable(_path, why);

    private byte Byte()
    {
        int b = _data.ReadByte();
        return b >= 0 ? (byte)b : throw Bad("its pickle ends early: the file is truncated or corrupt.");
    }

    private byte[] Take(long n)
    {
        if (n < 0 || n > _data.Length - _data.Position) throw Bad("its pickle ends early: the file is truncated or corrupt.");
        _limits.ChargePickle(n + 24);
        var bytes = new byte[n];
        _data.ReadExactly(bytes);
        return bytes;
    }

    private int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    private long Length4() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    private long Length8()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        return n > long.MaxValue ? throw Bad("its pickle ends early: the file is truncated or corrupt.") : (long)n;
    }

    /// <summary>A text line (protocol 0's arguments), at most <paramref name="max"/> bytes.</summary>
    private string Line(int max, string what)
    {
        var bytes = new List<byte>();
        while (true)
        {
            byte b = Byte();
            if (b == '\n') break;
            if (bytes.Count >= max) throw _limits.TooComplex($"its pickle has {what} longer than {max:#,0} characters");
            bytes.Add(b);
        }
        _limits.ChargePickle(2L * bytes.Count + 24);
        return Encoding.Latin1.GetString(bytes.ToArray());
    }

    private void Push(object? value, long bytes = 24)
    {
        _limits.ChargePickle(bytes);
        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count)) throw Bad("its pickle is malformed (stack underflow).");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Top() => _stack.Count > 0 && (_marks.Count == 0 || _marks[^1] < _stack.Count) ? _stack[^1] : throw Bad("its pickle is malformed (stack underflow).");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Bad("its pickle is malformed (no mark).");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        _limits.ChargePickle(32 + 8L * items.Count);
        return items;
    }

    /// <summary>Runs the pickle to its STOP and returns what it built; the stream is left just after it.</summary>
    public object? Load()
    {
        while (true)
        {
            if ((++_ops & 0xFFF) == 0) _limits.Token.ThrowIfCancellationRequested();
            byte op = Byte();
            switch (op)
            {
                case 0x80: Byte(); break;                                                      // PROTO
                case 0x95: Take(8); break;                                                     // FRAME
                case (byte)'.':                                                                // STOP
                    var result = Pop();
                    return _stack.Count == 0 && _marks.Count == 0 ? result : throw Bad("its pickle is malformed (items left on its stack).");
                case (byte)'(': _marks.Add(_stack.Count); _limits.ChargePickle(8); break;      // MARK
                case (byte)'0': Pop(); break;                                                  // POP
                case (byte)'1': PopMark(); break;                                              // POP_MARK
                case (byte)'2': Push(Top()); break;                                            // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)Int32()); break;                                    // BININT
                case (byte)'K': Push((long)Byte()); break;                                     // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(Long(Take(Byte()))); break;                                    // LONG1
                case 0x8b:                                                                     // LONG4
                    int n4 = Int32();
                    if (n4 < 0 || n4 > ReadLimits.IntBytes) throw _limits.TooComplex($"its pickle has an integer of {n4:#,0} bytes");
                    Push(Long(Take(n4)));
                    break;
                case (byte)'I': Push(Int(Line(ReadLimits.IntDigits + 2, "an integer"))); break;
                case (byte)'L': Push(Int(Line(ReadLimits.IntDigits + 2, "an integer") is var l && l.EndsWith('L') ? l[..^1] : l)); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'F': Push(Float(Line(400, "a number"))); break;
                case (byte)'X': Push(Utf8(Take(Length4()))); break;                            // BINUNICODE
                case 0x8c: Push(Utf8(Take(Byte()))); break;                                    // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Take(Length8()))); break;                                 // BINUNICODE8
                case (byte)'V': Push(Plain(Line(1 << 20, "a string"))); break;                 // UNICODE (raw-unicode-escape)
                case (byte)'S': Push(Quoted(Line(1 << 20, "a string"))); break;                // STRING (a repr)
                case (byte)'T': Push(Utf8(Take(Length4()))); break;                            // BINSTRING: torch.load decodes Python 2's str as UTF-8
                case (byte)'U': Push(Utf8(Take(Byte()))); break;                               // SHORT_BINSTRING
                case (byte)'B': Push(Take(Length4())); break;                                  // BINBYTES
                case (byte)'C': Push(Take(Byte())); break;                                     // SHORT_BINBYTES
                case 0x8e: case 0x96: Push(Take(Length8())); break;                            // BINBYTES8, BYTEARRAY8
                case (byte)')': Push(Array.Empty<object?>()); break;                           // EMPTY_TUPLE
                case (byte)'t': Push(PopMark().ToArray()); break;                              // TUPLE
                case 0x85: Push(new[] { Pop() }, 40); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }, 48); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }, 56); break; }
                case (byte)']': Push(new List<object?>(), 40); break;                         // EMPTY_LIST
                case (byte)'l': Push(PopMark()); break;                                        // LIST
                case (byte)'a': { var v = Pop(); AsList(Top()).Add(v); _limits.ChargePickle(8); break; }   // APPEND (to a list or a list subclass)
                case (byte)'e': { var items = PopMark(); AsList(Top()).AddRange(items); break; }   // APPENDS
                case (byte)'}': Push(new PickleDict(plain: true), 40); break;                  // EMPTY_DICT
                case (byte)'d': Push(Dict(PopMark(), new PickleDict(plain: true)), 40); break; // DICT
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItem(AsDict(Top()), k, v); break; }   // SETITEM
                case (byte)'u': { var items = PopMark(); Dict(items, AsDict(Top())); break; }  // SETITEMS
                case 0x8f: Push(new List<object?>(), 40); break;                               // EMPTY_SET
                case 0x90: { var items = PopMark(); AsList(Top()).AddRange(items); break; }   // ADDITEMS
                case 0x91: Push(PopMark()); break;                                             // FROZENSET
                case (byte)'c': Push(Name(Line(1024, "a module name"), Line(1024, "a name")), 64); break;   // GLOBAL
                case 0x93:                                                                     // STACK_GLOBAL
                {
                    if (Pop() is not string name || Pop() is not string module) throw Bad("its pickle names a class with something that is not a string.");
                    Push(Name(module, name), 64);
                    break;
                }
                case (byte)'R': { var args = Pop(); var f = Pop(); Push(Call(f, args as object?[] ?? throw Bad("its pickle calls a function with arguments that are not a tuple."))); break; }
                case (byte)'i':                                                                // INST: calls module.name(*args)
                {
                    var g = Name(Line(1024, "a module name"), Line(1024, "a name"));
                    Push(Call(g, PopMark().ToArray()));
                    break;
                }
                case (byte)'o':                                                                // OBJ: calls cls(*args)
                {
                    var items = PopMark();
                    if (items.Count == 0) throw Bad("its pickle builds an object of no class.");
                    Push(Call(items[0], items.Skip(1).ToArray()));
                    break;
                }
                case (byte)'b': { var state = Pop(); Build(Top(), state); break; }             // BUILD
                case 0x81: { var args = Pop(); var cls = Pop(); Push(New(cls, args), 64); break; }            // NEWOBJ
                case 0x92: { Pop(); var args = Pop(); var cls = Pop(); Push(New(cls, args), 64); break; }     // NEWOBJ_EX
                case (byte)'q': Memo(Byte()); break;                                           // BINPUT
                case (byte)'r': Memo(Length4()); break;                                        // LONG_BINPUT
                case (byte)'p': Memo(MemoKey(Line(24, "a memo key"))); break;                  // PUT
                case 0x94: Memo(_memo.Count); break;                                           // MEMOIZE
                case (byte)'h': Push(Recall(Byte()), 8); break;                                // BINGET
                case (byte)'j': Push(Recall(Length4()), 8); break;                             // LONG_BINGET
                case (byte)'g': Push(Recall(MemoKey(Line(24, "a memo key"))), 8); break;       // GET
                case (byte)'Q': Push(_persistent(Pop())); break;                               // BINPERSID
                case (byte)'P': Push(_persistent(Line(1024, "a persistent id"))); break;       // PERSID
                case 0x82: case 0x83: case 0x84:                                               // EXT1, EXT2, EXT4
                    throw Refused("an object from Python's extension registry (copyreg)");
                case 0x97: case 0x98:                                                          // NEXT_BUFFER, READONLY_BUFFER
                    throw Bad("its pickle uses out-of-band buffers, which torch.save does not write.");
                default: throw Bad($"its pickle uses opcode 0x{op:x2}, which is not a pickle opcode.");
            }
        }
    }

    private void Memo(long key)
    {
        _limits.ChargePickle(48);
        _memo[key] = Top();
    }

    private object? Recall(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad("its pickle is malformed (unknown memo key).");

    private long MemoKey(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : throw Bad("its pickle is malformed (a memo key is not a number).");

    private string Utf8(byte[] bytes)
    {
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Bad("its pickle holds a string that is not valid UTF-8."); }
    }

    private object Long(byte[] bytes)
    {
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        if (v >= long.MinValue && v <= long.MaxValue) return (long)v;
        return v;
    }

    /// <summary>A protocol-0 integer as Python's int(text, 0) reads the decimal ones; other forms (010, 0x10, 1_0) are refused.</summary>
    private object Int(string text)
    {
        if (text is "01") return true;
        if (text is "00") return false;
        string digits = text.StartsWith('-') || text.StartsWith('+') ? text[1..] : text;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || (digits.Length > 1 && digits[0] == '0'))
            throw Bad($"its pickle has the integer '{(text.Length > 20 ? text[..20] + "..." : text)}', which torch.save does not write.");
        if (digits.Length > ReadLimits.IntDigits)
            throw _limits.TooComplex($"its pickle has an integer of more than {ReadLimits.IntDigits:#,0} digits (Python refuses these too)");
        if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v)) return v;
        return BigInteger.Parse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A protocol-0 string; escapes (which torch.save never writes, and which decode to other keys) are refused.</summary>
    private string Plain(string text) =>
        text.Contains('\\') ? throw Bad("its pickle has a protocol-0 string with escapes, which torch.save does not write.") : text;

    /// <summary>STRING's repr: one pair of matching quotes around plain text.</summary>
    private string Quoted(string text) =>
        text.Length >= 2 && text[0] is '\'' or '"' && text[^1] == text[0] ? Plain(text[1..^1])
            : throw Bad("its pickle has a protocol-0 string that is not quoted.");

    private double Float(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : text switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => throw Bad("its pickle has a float that is not a number.") };

    private List<object?> AsList(object? o) => o switch
    {
        List<object?> list => list,
        PickleObject obj => obj.List ??= new List<object?>(),   // a list subclass
        _ => throw Bad("its pickle appends to something that is not a list."),
    };

    private PickleDict AsDict(object? o) => o switch
    {
        PickleDict dict => dict,
        PickleObject obj => obj.Items ??= new PickleDict(plain: true),   // a dict subclass (a config's AttrDict)
        _ => throw Bad("its pickle sets an item of something that is not a dict."),
    };

    /// <summary>
    /// A name the pickle refers to (GLOBAL): Python imports its module to find it, so a name that runs code or touches
    /// the system is refused here, even if it is never called; another name that is not known data is reported.
    /// </summary>
    private PickleGlobal Name(string module, string name)
    {
        var g = new PickleGlobal(module, name);
        if (!AllowNames) throw Refused($"{g} in a header pickle, which holds plain values only");
        if (Refuses(g)) throw Refused(g.ToString());
        if (!IsKnown(g) && _warnings.Count < 20) _warnings.Add(g.ToString());
        return g;
    }

    private PickleDict Dict(List<object?> items, PickleDict into)
    {
        if (items.Count % 2 != 0) throw Bad("its pickle is malformed (a dict with a key and no value).");
        for (int i = 0; i < items.Count; i += 2) SetItem(into, items[i], items[i + 1]);
        return into;
    }

    private void SetItem(PickleDict dict, object? key, object? value)
    {
        // Python refuses unhashable keys (lists, dicts, sets) with TypeError; so does torch.load.
        if (key is null or List<object?> or PickleDict) throw Bad("its pickle uses a list or dict as a dict key, which Python cannot load.");
        _limits.ChargePickle(48);
        dict.Set(key, value);
    }

    /// <summary>BUILD, as Python does it: a state dict becomes the object's attributes (an OrderedDict's too), never its items.</summary>
    private void Build(object? target, object? state)
    {
        PickleDict? dictState = state as PickleDict, slots = null;
        if (state is object?[] { Length: 2 } pair && pair[0] is PickleDict or null && pair[1] is PickleDict or null)
            (dictState, slots) = (pair[0] as PickleDict, pair[1] as PickleDict);
        RefuseDunders(dictState);
        RefuseDunders(slots);
        if (target is PickleTensor tensor)
        {
            SetTensorState(tensor, state);
            return;
        }
        var attributes = target switch
        {
            PickleObject o => o.Attributes,
            PickleDict { Plain: false } d => d.Attributes ??= new PickleDict(plain: false),
            _ => null,
        };
        if (attributes is null)
        {
            // Python's BUILD on a dict, list or tuple has no __dict__ to set, and fails; an empty state does nothing.
            if (state is null || state is PickleDict { Count: 0 } || state is PickleTensor || target is PickleTensor) return;
            if (target is PickleDict or List<object?> or object?[] or string or long or double or bool)
                throw Bad("its pickle sets attributes of a dict, list or tuple, which Python cannot load.");
            return;   // state of an object kept as a value (a numpy array's data): not needed
        }
        foreach (var part in new[] { dictState, slots })
            if (part is not null)
                foreach (var (k, v) in part.Items) SetItem(attributes, k, v);
    }

    /// <summary>
    /// Tensor.__setstate__, as PyTorch runs it: (storage, offset, size, stride) makes the tensor that view; (data,
    /// requires_grad, volatile, hooks, ...) of five gives it data's values; (requires_grad, volatile, hooks) and a dict
    /// of attributes leave its values alone.
    /// </summary>
    private void SetTensorState(PickleTensor tensor, object? state)
    {
        switch (state)
        {
            case null:
            case PickleDict:
                RefuseDunders(state as PickleDict);
                return;
            case object?[] { Length: 3 }:
                return;
            case object?[] { Length: 4 } view:
                if (Tensor("_rebuild_tensor", view) is PickleTensor rebuilt) tensor.Become(rebuilt);
                return;
            case object?[] { Length: 5 } variable when variable[0] is PickleTensor data:
                tensor.Become(data);
                return;
            default:
                throw Bad("its pickle sets the state of a tensor in a form PyTorch does not read.");
        }
    }

    /// <summary>A state that sets an attribute such as __setstate__ or __class__: Python would call or become what it names.</summary>
    private void RefuseDunders(PickleDict? state)
    {
        if (state is null) return;
        foreach (var (key, value) in state.Items)
            if (key is string k && k.Length > 4 && k.StartsWith("__", StringComparison.Ordinal) && k.EndsWith("__", StringComparison.Ordinal))
                throw Refused($"a {k} attribute set to {Describe(value)}, which Python would then use");
    }

    private static string Describe(object? value) => value switch
    {
        PickleGlobal g => g.ToString(),
        PickleObject o => $"an object of {o.Type}",
        _ => "a value",
    };

    private object New(object? cls, object? args)
    {
        if (cls is not PickleGlobal g) throw Bad("its pickle builds an object of no class.");
        if (Refuses(g)) throw Refused(g.ToString());
        return (g.Module, g.Name) switch
        {
            ("collections", "OrderedDict") => new PickleDict(plain: false),
            ("builtins" or "__builtin__", "dict") or ("collections", "defaultdict") => new PickleDict(plain: true),
            ("builtins" or "__builtin__", "list" or "set") => new List<object?>(),
            _ => new PickleObject(g),
        };
    }

    /// <summary>
    /// REDUCE (and INST, OBJ): what the call would build in Python, found without calling it. Tensor rebuilders build
    /// tensors; containers build containers; other known data constructors stay objects; a call that runs code is refused.
    /// </summary>
    private object? Call(object? callable, object?[] args)
    {
        for (int depth = 0; ; depth++)
        {
            if (callable is not PickleGlobal f) throw Bad("its pickle calls something that is not a function or class.");
            if (Refuses(f)) throw Refused(f.ToString());
            switch (f.Module, f.Name)
            {
                case ("collections", "OrderedDict"):
                case ("builtins" or "__builtin__", "dict"):
                case ("collections", "defaultdict"):
                {
                    var d = new PickleDict(plain: f.Name != "OrderedDict");
                    // dict(mapping) and OrderedDict([(k, v), ...]) (protocol 0 and 1, Python 2's [[k, v], ...]); defaultdict's argument is its factory.
                    object? items = f.Name == "defaultdict" ? null : args.Length > 0 ? args[0] : null;
                    if (items is PickleDict mapping)
                        foreach (var (k, v) in mapping.Items) SetItem(d, k, v);
                    else if (items is List<object?> or object?[])
                        foreach (var p in items is List<object?> l ? l : (IEnumerable<object?>)(object?[])items)
                            if (p is object?[] { Length: 2 } kv) SetItem(d, kv[0], kv[1]);
                            else if (p is List<object?> { Count: 2 } pair) SetItem(d, pair[0], pair[1]);
                            else throw Bad("its pickle builds a dict from something that is not a pair.");
                    else if (items is not null) throw Bad("its pickle builds a dict from something that is not a mapping or pairs.");
                    return d;
                }
                case ("builtins" or "__builtin__", "set" or "frozenset" or "list" or "tuple"):
                {
                    // set([...]): how protocol 2 writes a module's _non_persistent_buffers_set.
                    var items = args.Length == 0 ? new List<object?>() : args[0] switch
                    {
                        List<object?> l => new List<object?>(l),
                        object?[] t => t.ToList(),
                        _ => throw Bad($"its pickle builds a {f.Name} from something that is not a list."),
                    };
                    _limits.ChargePickle(40 + 8L * items.Count);
                    return f.Name == "tuple" ? items.ToArray() : items;
                }
                case ("torch._utils", "_rebuild_tensor" or "_rebuild_tensor_v2" or "_rebuild_tensor_v3"):
                    return Tensor(f.Name, args);
                case ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state"):
                case ("torch.nn.parameter", "Parameter"):   // PyTorch before 0.4 called Parameter(data, requires_grad)
                    // _rebuild_parameter_with_state(data, requires_grad, hooks, state): the state becomes attributes.
                    if (f.Name == "_rebuild_parameter_with_state" && args.Length > 3) RefuseDunders(args[3] as PickleDict);
                    return args.Length > 0 ? args[0] : null;
                case ("torch._tensor", "_rebuild_from_type_v2"):
                    // func(*args) with a subclass type, then its state set: the tensor is func's. Nested ones are unwound
                    // in this loop, not by recursion.
                    if (args.Length < 3) throw Bad("a tensor in it is described in a form torch.save does not write.");
                    if (depth >= 16) throw _limits.TooComplex("its pickle nests tensor rebuilders more than 16 deep");
                    if (args.Length > 3) RefuseDunders(args[3] as PickleDict);
                    (callable, args) = (args[0], args[2] as object?[] ?? Array.Empty<object?>());
                    continue;
                case ("copyreg", "_reconstructor"):
                case ("copy_reg", "_reconstructor"):
                    // _reconstructor(cls, base, state) calls base.__init__(obj, state) unless base is object.
                    if (args.Length > 1 && args[1] is PickleGlobal b && !(b.Module is "builtins" or "__builtin__" && b.Name is "object" or "dict" or "list" or "set" or "tuple"))
                        throw Refused($"copyreg._reconstructor with the base {args[1]}, whose __init__ Python would run");
                    return New(args.Length > 0 ? args[0] : null, null);
                case ("copyreg", "__newobj__" or "__newobj_ex__"):
                    return New(args.Length > 0 ? args[0] : null, null);
            }
            return new PickleObject(f);   // reported when the pickle named it, unless known data
        }
    }

    private RnnException Refused(string what) =>
        new("PickleCallRefused", RnnErrorKind.InvalidData,
            $"'{_path}' asks for {what} when it is loaded, which runs code in Python and which a saved model never needs: it was refused and " +
            "nothing was run. If the file is yours, save the model's state_dict alone: torch.save(model.state_dict(), path).");

    private static readonly HashSet<string> CodeModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "runpy", "importlib", "pty", "code", "codeop", "ctypes",
        "pickle", "_pickle", "marshal", "webbrowser", "multiprocessing", "signal", "platform", "commands", "popen2", "pdb",
        "timeit", "trace", "profile", "cProfile", "asyncio", "threading", "_thread", "tempfile", "glob", "pydoc", "shelve",
        "dbm", "zipimport", "urllib", "http", "ftplib", "smtplib", "telnetlib", "ensurepip", "venv", "distutils", "setuptools",
        "pip", "IPython", "_posixsubprocess", "_io", "io", "fileinput", "site", "sysconfig", "imp", "inspect",
        // They write or open files, sockets or other processes when built or called.
        "logging", "zipfile", "tarfile", "gzip", "bz2", "lzma", "sqlite3", "mmap", "fcntl", "termios", "tty", "resource",
        "select", "selectors", "ssl", "socketserver", "xmlrpc", "poplib", "imaplib", "nntplib", "ftplib", "dill",
        "cloudpickle", "joblib", "antigravity", "turtle", "tkinter", "idlelib", "distutils", "lib2to3", "zipapp",
    };

    private static readonly HashSet<string> CodeBuiltins = new(StringComparer.Ordinal)
    {
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals", "vars", "input",
        "breakpoint", "exit", "quit", "help", "memoryview", "apply", "execfile", "file", "reload", "type",
    };

    /// <summary>Names whose call in Python runs code, reads or writes files, or loads another pickle: the file is refused.</summary>
    private static bool Refuses(PickleGlobal f)
    {
        var parts = f.Module.Split('.');
        string root = parts[0];
        if (CodeModules.Contains(f.Module) || CodeModules.Contains(root)) return true;
        if (root is "builtins" or "__builtin__") return CodeBuiltins.Contains(f.Name);
        if (root is "operator" or "_operator") return f.Name is "attrgetter" or "methodcaller" or "itemgetter";
        if (root is "functools") return f.Name is "reduce";
        if (root is "codecs") return f.Name is "open" or "EncodedFile" or "StreamReaderWriter";
        if (root is "numpy") return parts.Contains("testing") || parts.Contains("f2py") || parts.Contains("distutils") || f.Name is "load" or "loadtxt" or "fromfile" or "genfromtxt" or "save" or "memmap";
        if (root is "torch")
            return f.Name is "load" or "save" or "from_file" or "_load_from_bytes" || f.Module.StartsWith("torch.hub", StringComparison.Ordinal)
                || f.Module.StartsWith("torch.jit", StringComparison.Ordinal) || f.Module.StartsWith("torch._C", StringComparison.Ordinal)
                || f.Module.StartsWith("torch.ops", StringComparison.Ordinal) || f.Module.StartsWith("torch.package", StringComparison.Ordinal)
                || (f.Module.StartsWith("torch.serialization", StringComparison.Ordinal) && f.Name.Contains("load", StringComparison.Ordinal));
        return false;
    }

    private static readonly HashSet<string> KnownData = new(StringComparer.Ordinal)
    {
        "builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple", "builtins.slice", "builtins.complex", "builtins.bytearray",
        "builtins.bytes", "builtins.range", "builtins.int", "builtins.float", "builtins.str", "builtins.bool", "builtins.object",
        "__builtin__.set", "__builtin__.object", "collections.Counter", "collections.deque", "collections.namedtuple",
        "torch.device", "torch.Size", "torch.serialization._get_layout", "torch.torch_version.TorchVersion",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor", "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random.__RandomState_ctor", "torch.nn.backends.thnn._get_thnn_function_backend", "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath", "argparse.Namespace", "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
        "datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "_codecs.encode", "codecs.encode",
    };

    /// <summary>
    /// Names whose import and call in Python build plain data or PyTorch's own objects, and run no one else's code:
    /// the list above, PyTorch's tensor rebuilders, storage classes, dtypes and nn modules, and classes of __main__
    /// (looked up in the loading program, not imported; a whole module's class).
    /// </summary>
    private static bool IsKnown(PickleGlobal f) =>
        KnownData.Contains(f.ToString()) || f.Module == "__main__"
        || (f.Module == "torch._utils" && f.Name.StartsWith("_rebuild_", StringComparison.Ordinal))
        || (f.Module == "torch" && (f.Name.EndsWith("Storage", StringComparison.Ordinal) || TensorType.Find(f.Name) is not null || f.Name is "Tensor" or "complex64" or "complex128"))
        || f.Module.StartsWith("torch.nn.modules.", StringComparison.Ordinal) || f.Module == "torch.nn.parameter"
        || f.ToString() is "torch._tensor._rebuild_from_type_v2" or "torch._tensor.Tensor" or "collections.OrderedDict" or "collections.defaultdict"
            or "copyreg._reconstructor" or "copyreg.__newobj__" or "copyreg.__newobj_ex__" or "copy_reg._reconstructor"
            or "builtins.dict" or "__builtin__.dict";

    /// <summary>
    /// A tensor: (storage, offset, sizes, strides, ...), every size, stride and offset a non-negative integer and every
    /// element inside its storage, checked without wrapping.
    /// </summary>
    private object? Tensor(string rebuilder, object?[] args)
    {
        if (args.Length < 4 || args[0] is not PickleStorage storage || args[1] is not long offset || args[2] is not object?[] sizeItems
            || args[3] is not object?[] strideItems || sizeItems.Length != strideItems.Length)
            throw Bad("a tensor in it is described in a form torch.save does not write.");
        if (sizeItems.Length > ReadLimits.Rank) throw _limits.TooComplex($"a tensor in it has {sizeItems.Length:#,0} dimensions");
        var sizes = new long[sizeItems.Length];
        var strides = new long[sizeItems.Length];
        for (int d = 0; d < sizes.Length; d++)
        {
            if (sizeItems[d] is not long s || strideItems[d] is not long st || s < 0 || st < 0)
                throw _limits.Inconsistent("a tensor's sizes and strides must be non-negative integers");
            (sizes[d], strides[d]) = (s, st);
        }
        if (offset < 0) throw _limits.Inconsistent("a tensor has a negative offset into its storage");
        long count = 1, last = offset;
        for (int d = 0; d < sizes.Length; d++)
        {
            count = _limits.Product(count, sizes[d], "a tensor");
            if (sizes[d] > 0) last = _limits.Sum(last, _limits.Product(sizes[d] - 1, strides[d], "a tensor's view"), "a tensor's view");
        }
        if (count > 0 ? last >= storage.Count : offset > storage.Count)
            throw _limits.Inconsistent($"a tensor reaches element {last:#,0} of a storage of {storage.Count:#,0}");
        // _rebuild_tensor_v3 names the dtype separately (an untyped storage of bytes).
        if (rebuilder == "_rebuild_tensor_v3" && args.Length > 6 && args[6] is PickleGlobal dtype
            && (TensorType.Find(dtype.Name) ?? throw Bad($"a tensor in it has the dtype {dtype}, which this module does not read.")) is var type && type != storage.Type)
        {
            if (storage.Type != TensorType.UInt8 || storage.Count % type.Size != 0 || storage.BaseOffset % type.Size != 0)
                throw _limits.Inconsistent("a tensor's dtype does not fit its storage");
            storage = new PickleStorage(storage.Key, type, storage.Count / type.Size, storage.BaseOffset / type.Size);
            if (count > 0 && last >= storage.Count) throw _limits.Inconsistent($"a tensor reaches element {last:#,0} of a storage of {storage.Count:#,0}");
        }
        _limits.ChargePickle(96 + 16L * sizes.Length);
        return new PickleTensor(storage, offset, sizes, strides);
    }
}

using System.Globalization;
using System.Numerics;

namespace RnnLinearization.Core;

/// <summary>One entry of a model file as listed: a tensor, a module, or another value a checkpoint holds.</summary>
/// <param name="Key">The dotted name: a tensor's as state_dict() names it, nested dicts joined with dots.</param>
/// <param name="Kind">Tensor, Module or Value.</param>
public sealed record FileEntry(string Key, string Kind, long[]? Shape = null, string? DType = null, string? Value = null);

/// <summary>What a pickled nn.RNN/GRU/LSTM (or cell) records about itself, beside its weights.</summary>
public sealed record ModuleFacts(string Class, Nonlinearity? Nonlinearity, int? NumLayers, bool? Bias, bool? BatchFirst, bool? Bidirectional, int? ProjSize);

/// <summary>
/// A model file opened for reading, in any format the module reads: torch.save's zip and legacy formats (state_dicts,
/// checkpoints, whole pickled modules), safetensors, and TorchScript (recognised, not read here: only libtorch runs it).
/// Tensors are named as PyTorch names them (nested dicts joined with dots, a whole module's as its state_dict()), and
/// their values are read only when asked for, each charged to the file's <see cref="ReadLimits"/>; the file stays
/// open until disposed. The format is told by the bytes, not the name.
/// </summary>
public sealed class ModelFile : IDisposable
{
    private IStorageSource? _source;
    private readonly ReadLimits _limits;
    private readonly Dictionary<string, byte[]> _bytes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Parameter> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModuleFacts> _modules = new(StringComparer.Ordinal);
    private readonly List<FileEntry> _entries = new();
    private readonly object _gate = new();

    private ModelFile(string path, string format, IStorageSource? source, ReadLimits limits)
    {
        Path = path;
        Format = format;
        _source = source;
        _limits = limits;
    }

    public string Path { get; }

    /// <summary>"torch.save zip", "torch.save legacy", "safetensors" or "TorchScript".</summary>
    public string Format { get; }

    public bool IsTorchScript => Format == "TorchScript";

    /// <summary>Numeric tensors under their dotted names, in the file's order.</summary>
    public IReadOnlyDictionary<string, Parameter> Tensors => _tensors;

    /// <summary>Every tensor, module and other value, in the file's order, for listing.</summary>
    public IReadOnlyList<FileEntry> Entries => _entries;

    /// <summary>Facts of the pickled recurrent modules, by their key prefix ("rnn." for rnn.weight_ih_l0; "" at the root).</summary>
    public IReadOnlyDictionary<string, ModuleFacts> Modules => _modules;

    /// <summary>A safetensors file's __metadata__.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; } = new Dictionary<string, string>();

    /// <summary>Calls the file would make when loaded in Python (torch.load) that are neither refused nor known to be plain data.</summary>
    public IReadOnlyList<string> Calls { get; private set; } = Array.Empty<string>();

    internal static RnnException Unreadable(string path, string why) =>
        new("UnreadableModelFile", RnnErrorKind.InvalidData, $"'{path}' cannot be read as a model file: {why}");

    /// <summary>Opens and reads the file's structure; tensor values are read when a <see cref="Parameter"/>'s Data is first asked for.</summary>
    public static ModelFile Open(string path, CancellationToken token = default)
    {
        if (Directory.Exists(path))
            throw new RnnException("ModelPathIsDirectory", RnnErrorKind.InvalidArgument,
                $"'{path}' is a directory; give the model file in it (torch.save's .pt, a .safetensors file or a TorchScript archive).");
        if (!File.Exists(path))
            throw new RnnException("ModelFileNotFound", RnnErrorKind.ObjectNotFound, $"No model file at '{path}'.");
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("ModelFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
        try { return Read(stream, path, new ReadLimits(path, stream.Length, token)); }
        catch (OutOfMemoryException ex)
        {
            stream.Dispose();
            throw new RnnException("InsufficientMemory", RnnErrorKind.ResourceUnavailable, $"'{path}' needs more memory to read than this process has.", ex);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static ModelFile Read(FileStream stream, string path, ReadLimits limits)
    {
        var head = new byte[16];
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..got];
        stream.Position = 0;
        try
        {
            if (head is [(byte)'P', (byte)'K', 3 or 5, 4 or 6, ..])
            {
                var zip = TorchZip.Open(stream, path, limits);
                if (zip.IsScript) return new ModelFile(path, "TorchScript", zip, limits);
                var file = new ModelFile(path, "torch.save zip", zip, limits);
                var (value, calls) = zip.Load();
                file.Calls = calls;
                file.Name(value);
                return file;
            }
            if (SafeTensors.LooksLike(head, stream.Length))
            {
                var source = SafeTensors.Open(stream, path, limits);
                var file = new ModelFile(path, "safetensors", source, limits) { Metadata = source.Metadata };
                foreach (var (name, tensor) in source.Tensors) file.AddTensor(name, tensor);
                return file;
            }
            if (head is [0x80, <= 5, ..])
            {
                // torch.load tries the oldest (tar) format first: a file that is also a tar archive reads differently there.
                if (IsTar(stream)) throw Unreadable(path, "it is both a legacy torch.save file and a tar archive, which PyTorch would read as the other.");
                var legacy = TorchLegacy.Open(stream, path, limits);
                var file = new ModelFile(path, "torch.save legacy", legacy, limits);
                var (value, calls) = legacy.Load();
                file.Calls = calls;
                file.Name(value);
                return file;
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException)
        {
            throw Unreadable(path, "it ends early: the file is truncated or corrupt.");
        }
        catch (IOException ex)
        {
            throw new RnnException("ModelFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
        throw new RnnException("UnknownModelFormat", RnnErrorKind.InvalidData,
            $"'{path}' is neither a torch.save file (zip or legacy) nor a safetensors file.");
    }

    /// <summary>Words of a key that name optimizer, scheduler and grad-scaler state (optimizer_state_dict, lr_schedulers, grad_scaler).</summary>
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
        { "optim", "optimizer", "optimizers", "scheduler", "schedulers", "scaler", "scalers" };

    private static bool IsSkipped(string name) => name.Split('_', '-', '.', ' ').Any(Skipped.Contains);

    /// <summary>A tar header's checksum (the sum of its 512 bytes, the checksum field read as spaces) matches.</summary>
    private static bool IsTar(Stream stream)
    {
        if (stream.Length < 512) return false;
        var block = new byte[512];
        stream.Position = 0;
        stream.ReadExactly(block);
        stream.Position = 0;
        var field = System.Text.Encoding.ASCII.GetString(block, 148, 8).Trim('\0', ' ');
        if (field.Length == 0 || !field.All(c => c is >= '0' and <= '7')) return false;
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : block[i];
        return Convert.ToInt64(field, 8) == sum;
    }

    /// <summary>
    /// Names what the pickle built, as PyTorch would: dict keys joined with dots, and a whole module's tensors as its
    /// state_dict() names them (its parameters, its persistent buffers, then its submodules'). Optimizer, scheduler and
    /// grad-scaler state is not named (it holds no model). The walk is iterative: a container that contains itself is
    /// passed over (as a dict that holds itself has no tensors to add), and visits and depth are bounded.
    /// </summary>
    private void Name(object? root)
    {
        if (root is PickleTensor rootTensor) { AddTensor("(root)", rootTensor); return; }
        var onPath = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var frames = new Stack<(object Container, List<(string Name, object? Value)> Children, int Next, string Prefix)>();
        long visits = 0;
        // Every child the walk meets is counted, so a container shared by many (each of many children) cannot make
        // the walk, or the names it makes, grow beyond the budget.
        void Visit(long count, string prefix)
        {
            long before = visits;
            visits += count;
            if (visits > ReadLimits.Visits) throw _limits.TooComplex($"its object graph has more than {ReadLimits.Visits:#,0} entries to visit");
            if ((before >> 12) != (visits >> 12)) _limits.Token.ThrowIfCancellationRequested();
            _limits.ChargePickle(64 + 2L * prefix.Length * count);   // the names made
        }
        void Enter(object container, string prefix)
        {
            if (onPath.Contains(container)) return;
            if (frames.Count >= ReadLimits.Depth) throw _limits.TooComplex($"its dicts or modules nest more than {ReadLimits.Depth:#,0} levels deep");
            var children = Children(container, prefix);
            Visit(1 + children.Count, prefix);
            onPath.Add(container);
            frames.Push((container, children, 0, prefix));
        }
        if (root is PickleObject rootModule && IsModule(rootModule)) AddModule("", rootModule);
        if (IsContainer(root)) Enter(root!, "");
        else if (root is not null) _entries.Add(new FileEntry("(root)", "Value", Value: Describe(root)));
        while (frames.Count > 0)
        {
            var frame = frames.Pop();
            if (frame.Next == frame.Children.Count)
            {
                onPath.Remove(frame.Container);
                continue;
            }
            var (name, value) = frame.Children[frame.Next];
            frames.Push(frame with { Next = frame.Next + 1 });
            string key = frame.Prefix + name;
            if (value is PickleTensor tensor) AddTensor(key, tensor);
            else if (IsSkipped(name) && frame.Container is PickleDict)
                _entries.Add(new FileEntry(key, "Value", Value: "(optimizer state, not read)"));
            else if (IsContainer(value))
            {
                if (value is PickleObject module) AddModule(key + ".", module);
                Enter(value!, key + ".");
            }
            else _entries.Add(new FileEntry(key, "Value", Value: Describe(value)));
        }
    }

    /// <summary>
    /// Dicts (and instances of dict subclasses), modules, and lists that hold tensors, dicts or modules (one level is
    /// looked into, once per list: never recursion, never a rescan of a list shared by many).
    /// </summary>
    private bool IsContainer(object? value) => value switch
    {
        PickleDict => true,
        PickleObject o => IsModule(o) || o.Items is not null || o.List is not null,
        List<object?> or object?[] => _lists.TryGetValue(value, out bool holds) ? holds
            : _lists[value] = Items(value).Any(v => v is PickleTensor or PickleDict || (v is PickleObject o && (IsModule(o) || o.Items is not null))),
        _ => false,
    };

    private readonly Dictionary<object, bool> _lists = new(ReferenceEqualityComparer.Instance);

    private static bool IsModule(object? value) =>
        value is PickleObject o && (o.Attributes.Get("_parameters") is PickleDict || o.Attributes.Get("_modules") is PickleDict);

    private static IEnumerable<object?> Items(object list) => list is List<object?> l ? l : (object?[])list;

    private static int Count(object list) => list is List<object?> l ? l.Count : ((object?[])list).Length;

    /// <summary>A container's named children: a dict's items, a list's by index, a module's state_dict entries.</summary>
    private List<(string, object?)> Children(object container, string prefix)
    {
        var children = new List<(string, object?)>();
        switch (container)
        {
            case PickleDict dict:
                foreach (var (key, value) in dict.Items)
                    if (KeyName(key) is { } name) children.Add((name, value));
                break;
            case PickleObject { Items: { } items } when !IsModule(container):
                foreach (var (key, value) in items.Items)
                    if (KeyName(key) is { } name) children.Add((name, value));
                break;
            case PickleObject { List: { } list } when !IsModule(container):
                for (int k = 0; k < list.Count; k++) children.Add((k.ToString(CultureInfo.InvariantCulture), list[k]));
                break;
            case PickleObject module:
                var nonPersistent = module.Attributes.Get("_non_persistent_buffers_set") is List<object?> set ? set.OfType<string>().ToHashSet() : new HashSet<string>();
                foreach (var (attribute, skip) in new[] { ("_parameters", (HashSet<string>?)null), ("_buffers", nonPersistent), ("_modules", null) })
                    if (module.Attributes.Get(attribute) is PickleDict members)
                        foreach (var (key, value) in members.Items)
                            if (key is string name && value is not null && skip?.Contains(name) != true) children.Add((name, value));
                break;
            default:
                int i = 0;
                foreach (var item in Items(container)) children.Add(((i++).ToString(CultureInfo.InvariantCulture), item));
                break;
        }
        return children;
    }

    private static string? KeyName(object key) => key switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    /// <summary>A pickled recurrent module's own record of its nonlinearity, layers and options.</summary>
    private void AddModule(string prefix, PickleObject module)
    {
        var a = module.Attributes;
        string? mode = a.Get("mode") as string, nonlinearity = a.Get("nonlinearity") as string;
        bool recurrent = mode is not null || (nonlinearity is not null && module.Type.Name.EndsWith("Cell", StringComparison.Ordinal));
        // nn.RNN runs by its mode (RNN_TANH, RNN_RELU), whatever its nonlinearity attribute says; cells by nonlinearity.
        if (mode is not null) nonlinearity = null;
        _entries.Add(new FileEntry(prefix.TrimEnd('.') is { Length: > 0 } k ? k : "(root)", "Module", Value: module.Type.ToString()));
        if (!recurrent) return;
        Nonlinearity? f = (nonlinearity ?? mode) switch
        {
            "tanh" or "RNN_TANH" => Core.Nonlinearity.Tanh,
            "relu" or "RNN_RELU" => Core.Nonlinearity.Relu,
            _ => null,
        };
        int? Int(string name) => a.Get(name) is long v && v is >= 0 and <= int.MaxValue ? (int)v : null;
        bool? Bool(string name) => a.Get(name) switch { bool b => b, long l => l != 0, _ => null };
        _modules[prefix] = new ModuleFacts(module.Type.ToString(), f, Int("num_layers"), Bool("bias"), Bool("batch_first"), Bool("bidirectional"), Int("proj_size"));
    }

    private void AddTensor(string name, PickleTensor tensor)
    {
        if (_tensors.ContainsKey(name)) throw _limits.Duplicate($"two tensors are both named '{name}'");
        var type = tensor.Storage.Type;
        _entries.Add(new FileEntry(name, "Tensor", tensor.Sizes, type.Name));
        if (type.Real) _tensors[name] = new Parameter(tensor.Sizes, type.Name, () => Materialize(name, tensor));
    }

    /// <summary>A tensor's values as doubles, gathered through its view; charged before anything is allocated.</summary>
    private double[] Materialize(string name, PickleTensor t)
    {
        long count = 1;
        foreach (var s in t.Sizes) count *= s;   // checked when the tensor was read
        _limits.ChargeTensor(name, count);
        byte[] raw;
        lock (_gate)
        {
            if (_source is null) throw new ObjectDisposedException(nameof(ModelFile));
            if (!_bytes.TryGetValue(t.Storage.Key, out raw!))
            {
                _limits.ChargeRead(name, (t.Storage.BaseOffset + t.Storage.Count) * t.Storage.Type.Size);
                _bytes[t.Storage.Key] = raw = _source.Bytes(t.Storage);
            }
        }
        var data = new double[count];
        var index = new long[t.Sizes.Length];
        int size = t.Storage.Type.Size;
        var read = t.Storage.Type.Read;
        long origin = t.Storage.BaseOffset + t.Offset;
        for (long i = 0; i < count; i++)
        {
            if ((i & 0xFFFFF) == 0) _limits.Token.ThrowIfCancellationRequested();
            long at = origin;
            for (int d = 0; d < index.Length; d++) at += index[d] * t.Strides[d];
            data[i] = read(raw.AsSpan(checked((int)(at * size)), size));
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Sizes[d]) break;
                index[d] = 0;
            }
        }
        return data;
    }

    internal static void SwapBytes(byte[] bytes, int size)
    {
        if (size > 1)
            for (int i = 0; i + size <= bytes.Length; i += size) Array.Reverse(bytes, i, size);
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => s.Length <= 80 ? s : s[..77] + "...",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        BigInteger b => b.GetByteCount() <= 16 ? b.ToString(CultureInfo.InvariantCulture) : $"(an integer of {b.GetByteCount()} bytes)",
        byte[] bytes => $"({bytes.Length} bytes)",
        PickleDict d => $"(dict of {d.Count})",
        PickleObject o => $"({o.Type})",
        List<object?> or object?[] => Count(value) is var count && count <= 8 && Items(value).All(i => i is long or double or bool || i is string { Length: <= 40 })
            ? $"({string.Join(", ", Items(value).Select(Describe))})" : $"({count} items)",
        _ => $"({value.GetType().Name})",
    };

    public void Dispose()
    {
        lock (_gate)
        {
            _source?.Dispose();
            _source = null;
            _bytes.Clear();
        }
    }
}

namespace RnnLinearization.Core;

/// <summary>
/// What one model file may cost to read, and the errors for a file that asks for more. Every reader charges its
/// allocations here before making them, does its size arithmetic with <see cref="Product"/> and <see cref="Sum"/>
/// (never wrapping), and checks the token between bounded pieces of work, so that no file, however made, can end the
/// process, hang it, or read as numbers PyTorch would not give.
/// </summary>
internal sealed class ReadLimits
{
    /// <summary>Objects a pickle may build, in estimated managed bytes: torch.save's own pickles use a few MB.</summary>
    public const long PickleBytes = 256L << 20;

    /// <summary>Entries (containers and their children) a walk of the object graph may visit (a checkpoint has thousands).</summary>
    public const int Visits = 1_000_000;

    /// <summary>How deep dicts and modules may nest (a real module tree is tens of levels).</summary>
    public const int Depth = 1_000;

    /// <summary>Tensor rank: PyTorch's own kernels stop at 64 dimensions.</summary>
    public const int Rank = 64;

    /// <summary>Digits of a text integer: Python's own limit (sys.get_int_max_str_digits), so torch.load refuses these too.</summary>
    public const int IntDigits = 4300;

    /// <summary>Bytes of a binary integer: far above any that torch.save writes, below where arithmetic on it is slow.</summary>
    public const int IntBytes = 4096;

    private readonly string _path;
    private readonly long _tensorBytes;
    private long _pickle, _tensors;

    public ReadLimits(string path, long fileLength, CancellationToken token = default)
    {
        _path = path;
        Token = token;
        // Weights read as doubles take at most 4x their bytes on disk (float16); views that repeat their storage
        // (stride 0) could take any amount, so the total is capped near what the file itself holds.
        _tensorBytes = Math.Min(long.MaxValue / 2, 4 * Math.Max(fileLength, 0)) + (256L << 20);
    }

    public CancellationToken Token { get; }

    /// <summary>Charges an object the pickle builds (estimated managed bytes).</summary>
    public void ChargePickle(long bytes)
    {
        _pickle += bytes;
        if (_pickle > PickleBytes)
            throw TooLarge($"its pickle builds more than {MemoryGuard.Size(PickleBytes)} of objects (a saved model's pickle builds a few MB)");
    }

    /// <summary>Charges a tensor's values as doubles, before they are allocated; also against the machine's memory.</summary>
    public void ChargeTensor(string name, long elements)
    {
        long bytes = Product(elements, 8, name);
        _tensors = Sum(_tensors, bytes, name);
        if (_tensors > _tensorBytes)
            throw TooLarge($"its tensors would take {MemoryGuard.Size(_tensors)} as doubles, far more than the file's own bytes hold " +
                $"('{name}' is a view that repeats its storage)");
        MemoryGuard.Require(_tensors, $"Reading the tensors of '{_path}'");
    }

    /// <summary>Charges bytes read from the file to be kept (a storage's bytes, which its tensors' values are gathered from).</summary>
    public void ChargeRead(string name, long bytes)
    {
        _tensors = Sum(_tensors, bytes, name);
        if (_tensors > _tensorBytes) throw TooLarge($"reading '{name}' would take {MemoryGuard.Size(_tensors)}, far more than the file holds");
        MemoryGuard.Require(_tensors, $"Reading the tensors of '{_path}'");
    }

    public RnnException TooLarge(string why) => Refused("ModelFileTooLarge", RnnErrorKind.ResourceUnavailable, why);

    public RnnException TooComplex(string why) => Refused("ModelFileTooComplex", RnnErrorKind.InvalidData, why);

    public RnnException Inconsistent(string why) => Refused("InconsistentTensorView", RnnErrorKind.InvalidData, why);

    public RnnException Duplicate(string why) => DuplicateRecord(_path, why);

    /// <summary>A record given twice: readers disagree on which one counts, so the file is refused (any format).</summary>
    public static RnnException DuplicateRecord(string path, string why) =>
        new("DuplicateRecord", RnnErrorKind.InvalidData, $"'{path}' was refused: {why}; readers differ on which one counts.");

    private RnnException Refused(string id, RnnErrorKind kind, string why) =>
        new(id, kind, $"'{_path}' was refused: {why}. A file written by torch.save, safetensors or NumPy does not do this; it is damaged or was made to attack a reader.");

    /// <summary>a * b for non-negative sizes, or an InconsistentTensorView error where it would overflow.</summary>
    public long Product(long a, long b, string what)
    {
        try { return checked(a * b); }
        catch (OverflowException) { throw Inconsistent($"the size of {what} overflows 64-bit arithmetic"); }
    }

    /// <summary>a + b, or an InconsistentTensorView error where it would overflow.</summary>
    public long Sum(long a, long b, string what)
    {
        try { return checked(a + b); }
        catch (OverflowException) { throw Inconsistent($"an offset of {what} overflows 64-bit arithmetic"); }
    }
}

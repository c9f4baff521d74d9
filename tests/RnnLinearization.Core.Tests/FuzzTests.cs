using System.IO.Compression;
using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>
/// Mutated real files (byte flips, truncations, spliced garbage, and mutations inside the zip's pickle): each either
/// loads to a model or fails with a specific error id; never another exception. RNN_FUZZ_CASES sets the cases per
/// file (150 here; the Bench task runs 1,250 per file, 10,000 in all).
/// </summary>
public class FuzzTests
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("RNN_FUZZ_CASES"), out var n) && n > 0 ? n : 150;

    private static readonly string[] Ids =
    {
        "UnreadableModelFile", "UnknownModelFormat", "NoRecurrentWeights", "PickleCallRefused", "ModelFileTooComplex", "ModelFileTooLarge",
        "InconsistentTensorView", "DuplicateRecord", "TorchScriptNotRequested", "InsufficientMemory", "ArchitectureNotSupported",
        "ParameterShapeMismatch", "MissingParameter", "AmbiguousPrefix", "BidirectionalNotSupported", "ProjectionNotSupported",
        "LeakyRnnArchitectureRequired", "NonFiniteWeight", "InvalidStateFile", "EmptyStateFile", "NotTorchScript",
        "ScriptForwardFailed", "ScriptOutputNotTensor", "ScriptOutputShape", "UnsupportedTensorType", "StateLengthMismatch", "InputLengthMismatch",
        "NonFiniteValue", "StateFileUnreadable", "UnknownStateFormat", "ModelFileUnreadable",
    };

    private static byte[] Mutate(byte[] original, Random random)
    {
        var b = (byte[])original.Clone();
        switch (random.Next(4))
        {
            case 0:
                for (int i = 0, n = 1 + random.Next(8); i < n; i++) b[random.Next(b.Length)] ^= (byte)(1 << random.Next(8));
                return b;
            case 1:
                return b[..random.Next(1, b.Length)];
            case 2:
                int at = random.Next(b.Length), len = Math.Min(b.Length - at, 1 + random.Next(64));
                random.NextBytes(b.AsSpan(at, len));
                return b;
            default:
                return b;   // mutated inside the pickle below
        }
    }

    /// <summary>Rewrites the zip with its data.pkl mutated (flips and truncations in the pickle itself).</summary>
    private static byte[] MutatePickle(byte[] zipBytes, Random random)
    {
        using var input = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var e in input.Entries)
            {
                using var src = e.Open();
                var data = new MemoryStream();
                src.CopyTo(data);
                var bytes = data.ToArray();
                if (e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && bytes.Length > 2)
                {
                    if (random.Next(2) == 0) bytes = bytes[..random.Next(1, bytes.Length)];
                    else for (int i = 0, n = 1 + random.Next(4); i < n; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
                using var dst = zip.CreateEntry(e.FullName).Open();
                dst.Write(bytes);
            }
        return output.ToArray();
    }

    private static readonly HashSet<byte> NoArgument = "()]}tsueabRQN0123"u8.ToArray().Concat(new byte[] { 0x85, 0x86, 0x87, 0x88, 0x89, 0x81, 0x93, 0x94, 0x8f, 0x90, 0x91 }).ToHashSet();

    /// <summary>The offsets of the opcodes of a protocol-2 pickle as torch.save writes it (stops at one it does not know).</summary>
    private static List<int> Opcodes(byte[] p)
    {
        var at = new List<int>();
        for (int i = 0; i < p.Length;)
        {
            at.Add(i);
            byte op = p[i++];
            int Line() { int e = Array.IndexOf(p, (byte)'\n', i); return e < 0 ? p.Length : e + 1; }
            int Length(int size) => i + size <= p.Length ? (int)(size == 1 ? p[i] : BitConverter.ToUInt32(p, i)) + size : p.Length;
            switch (op)
            {
                case 0x80 or (byte)'K' or (byte)'q' or (byte)'h': i += 1; break;
                case (byte)'M': i += 2; break;
                case (byte)'J' or (byte)'r' or (byte)'j': i += 4; break;
                case (byte)'G' or 0x95: i += 8; break;
                case 0x8a or 0x8c or (byte)'U' or (byte)'C': i += Length(1); break;
                case (byte)'X' or (byte)'T' or (byte)'B': i += Length(4); break;
                case (byte)'c': i = Line(); i = Line(); break;
                case (byte)'.': return at;
                default:
                    if (!NoArgument.Contains(op)) return at;
                    break;
            }
        }
        return at;
    }

    /// <summary>
    /// The attacks of the hostile cases (tests/fixtures/generate_hostile.py), at random places of a real file: an integer
    /// made extreme (sizes, strides, offsets and counts near 2^31, 2^62 and 2^63), a memo reference made to point
    /// elsewhere (a container that holds itself), a callable replaced by one that runs code, deep nesting, a duplicate
    /// data.pkl, a byteorder record that is neither little nor big.
    /// </summary>
    private static byte[] MutateStructure(byte[] zipBytes, Random random)
    {
        using var input = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        var entries = input.Entries.Select(e => { using var s = e.Open(); var m = new MemoryStream(); s.CopyTo(m); return (e.FullName, Data: m.ToArray()); }).ToList();
        int k = entries.FindIndex(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal));
        var pickle = entries[k].Data;
        var ops = Opcodes(pickle);
        var ints = ops.Where(o => pickle[o] is (byte)'K' or (byte)'M' or (byte)'J').ToList();
        var gets = ops.Where(o => pickle[o] is (byte)'h').ToList();
        var globals = ops.Where(o => pickle[o] is (byte)'c').ToList();
        int kind = random.Next(6);
        byte[] Splice(int at, int remove, byte[] insert) => pickle[..at].Concat(insert).Concat(pickle[(at + remove)..]).ToArray();
        int Size(int o) => pickle[o] switch { (byte)'K' => 2, (byte)'M' => 3, _ => 5 };
        if (kind == 0 && ints.Count > 0)
        {
            long[] extreme = { (1L << 62) + 4, long.MaxValue, -1, 1L << 31, 1L << 30, (1L << 32) + 1, 0 };
            int o = ints[random.Next(ints.Count)];
            pickle = Splice(o, Size(o), new byte[] { 0x8a, 8 }.Concat(BitConverter.GetBytes(extreme[random.Next(extreme.Length)])).ToArray());
        }
        else if (kind == 1 && gets.Count > 0)
            pickle[gets[random.Next(gets.Count)] + 1] = (byte)random.Next(256);
        else if (kind == 2 && globals.Count > 0)
        {
            int o = globals[random.Next(globals.Count)];
            int end = Array.IndexOf(pickle, (byte)'\n', Array.IndexOf(pickle, (byte)'\n', o) + 1) + 1;
            var payload = random.Next(3) switch { 0 => "cos\nsystem\n", 1 => "cbuiltins\neval\n", _ => "cpydoc\npipepager\n" };
            pickle = Splice(o, end - o, System.Text.Encoding.ASCII.GetBytes(payload));
        }
        else if (kind == 3 && ops.Count > 2)
        {
            // Deep nesting: n empty lists, each appended to the one before, then popped (the stack stays as it was).
            int n = 1 + random.Next(200_000);
            var nest = Enumerable.Repeat((byte)']', n).Concat(Enumerable.Repeat((byte)'a', n - 1)).Append((byte)'0').ToArray();
            pickle = Splice(ops[1 + random.Next(ops.Count - 2)], 0, nest);
        }
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (int e = 0; e < entries.Count; e++)
            {
                var data = e == k ? pickle : entries[e].Data;
                if (kind == 5 && entries[e].FullName.EndsWith("byteorder", StringComparison.Ordinal)) data = System.Text.Encoding.ASCII.GetBytes("little" + new string(' ', random.Next(1, 20)));
                using (var dst = zip.CreateEntry(entries[e].FullName).Open()) dst.Write(data);
                if (kind == 4 && e == k) using (var dup = zip.CreateEntry(entries[e].FullName).Open()) dup.Write(data);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// Writes <see cref="Cases"/> files made by <paramref name="mutate"/> and loads each: it loads, or fails with a
    /// specific id, within 20 s. Returns how many were refused.
    /// </summary>
    private static int LoadMutated(string file, Func<byte[], byte[]> mutate, Action<string> load)
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures.Root, file));
        var path = Path.Combine(Path.GetTempPath(), $"fuzz-{Guid.NewGuid():N}{Path.GetExtension(file)}");
        int loaded = 0, refused = 0;
        try
        {
            for (int k = 0; k < Cases; k++)
            {
                File.WriteAllBytes(path, mutate(original));
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    load(path);
                    loaded++;
                }
                catch (RnnException ex)
                {
                    Assert.True(Ids.Contains(ex.ErrorId), $"case {k}: unexpected id {ex.ErrorId}: {ex.Message}");
                    refused++;
                }
                Assert.True(clock.Elapsed.TotalSeconds < 20, $"case {k} took {clock.Elapsed.TotalSeconds:F1} s");
            }
        }
        finally { File.Delete(path); }
        Assert.Equal(Cases, loaded + refused);
        return refused;
    }

    [Theory]
    [InlineData("realfiles/gpu_lstm_2layers_flat.pt", 11)]
    [InlineData("realfiles/checkpoint_rnn.pt", 12)]
    [InlineData("realfiles/torch2_layout_rnn_relu.pt", 13)]
    [InlineData("realfiles/whole_module_gru.pt", 14)]
    public void StructurallyMutatedModelFilesLoadOrFailWithASpecificIdWithinSeconds(string file, int seed)
    {
        var random = new Random(seed);
        int refused = LoadMutated(file, original => MutateStructure(original, random), path => ModelLoader.Load(path));
        Assert.True(refused > Cases / 4, $"only {refused} of {Cases} mutated files were refused");
    }

    [Theory]
    [InlineData("realfiles/gpu_lstm_2layers_flat.pt", 1)]
    [InlineData("realfiles/checkpoint_rnn.pt", 2)]
    [InlineData("realfiles/torch2_layout_rnn_relu.pt", 3)]
    [InlineData("models/rnn_i3_h7_tanh.safetensors", 4)]
    [InlineData("models/script_grucell_i2_h5.pt", 9)]
    public void MutatedModelFilesLoadOrFailWithASpecificId(string file, int seed)
    {
        var random = new Random(seed);
        bool scripted = file.Contains("script_");
        int refused = LoadMutated(file, original =>
        {
            var bytes = Mutate(original, random);
            // A pickle changed and re-zipped with valid checksums is not damage but a crafted file: for TorchScript,
            // libtorch's loader may end the process on it (README, Limits), so only state_dicts get these.
            return bytes.SequenceEqual(original) && file.EndsWith(".pt") && !scripted ? MutatePickle(original, random) : bytes;
        }, path =>
        {
            if (scripted) ModelLoader.Load(path, Architecture.TorchScript, inputSize: 2, hiddenSize: 5);
            else ModelLoader.Load(path);
        });
        Assert.True(refused > 0);
    }

    [Theory]
    [InlineData("realfiles/states_inputs.npz", 5)]
    [InlineData("realfiles/states_inputs.csv", 6)]
    [InlineData("states/states_f64.npy", 7)]
    [InlineData("states/states_objects.json", 8)]
    public void MutatedStateFilesReadOrFailWithASpecificId(string file, int seed)
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures.Root, file));
        var random = new Random(seed);
        var path = Path.Combine(Path.GetTempPath(), $"fuzz-{Guid.NewGuid():N}{Path.GetExtension(file)}");
        int read = 0, refused = 0;
        try
        {
            for (int k = 0; k < Cases; k++)
            {
                File.WriteAllBytes(path, Mutate(original, random));
                try
                {
                    Assert.NotNull(StateReader.Read(path));
                    read++;
                }
                catch (RnnException ex)
                {
                    Assert.True(Ids.Contains(ex.ErrorId), $"case {k}: unexpected id {ex.ErrorId}: {ex.Message}");
                    refused++;
                }
            }
        }
        finally { File.Delete(path); }
        // Both paths ran: a quarter of the cases are the file unchanged (they read), and truncations are refused.
        Assert.Equal(Cases, read + refused);
        Assert.True(read > 0, "no case was read, not even the unchanged file");
        Assert.True(refused > 0, "no mutated file was refused");
    }
}

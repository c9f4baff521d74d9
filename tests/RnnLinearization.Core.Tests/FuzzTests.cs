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
        "UnreadableModelFile", "UnknownModelFormat", "LegacyTorchFormat", "NoRecurrentWeights", "PickleCallRefused", "PickledModule",
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

    [Theory]
    [InlineData("realfiles/gpu_lstm_2layers_flat.pt", 1)]
    [InlineData("realfiles/checkpoint_rnn.pt", 2)]
    [InlineData("realfiles/torch2_layout_rnn_relu.pt", 3)]
    [InlineData("models/rnn_i3_h7_tanh.safetensors", 4)]
    [InlineData("models/script_grucell_i2_h5.pt", 9)]
    public void MutatedModelFilesLoadOrFailWithASpecificId(string file, int seed)
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures.Root, file));
        var random = new Random(seed);
        var path = Path.Combine(Path.GetTempPath(), $"fuzz-{Guid.NewGuid():N}{Path.GetExtension(file)}");
        int loaded = 0, refused = 0;
        try
        {
            bool scripted = file.Contains("script_");
            for (int k = 0; k < Cases; k++)
            {
                var bytes = Mutate(original, random);
                // A pickle changed and re-zipped with valid checksums is not damage but a crafted file: for TorchScript,
                // libtorch's loader may end the process on it (README, Limits), so only state_dicts get these.
                if (bytes.Length == original.Length && bytes.SequenceEqual(original) && file.EndsWith(".pt") && !scripted) bytes = MutatePickle(original, random);
                File.WriteAllBytes(path, bytes);
                try
                {
                    if (scripted) ModelLoader.Load(path, inputSize: 2, hiddenSize: 5);
                    else ModelLoader.Load(path);
                    loaded++;
                }
                catch (RnnException ex)
                {
                    Assert.True(Ids.Contains(ex.ErrorId), $"case {k}: unexpected id {ex.ErrorId}: {ex.Message}");
                    refused++;
                }
            }
        }
        finally { File.Delete(path); }
        Assert.Equal(Cases, loaded + refused);
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
        try
        {
            for (int k = 0; k < Cases; k++)
            {
                File.WriteAllBytes(path, Mutate(original, random));
                try { StateReader.Read(path); }
                catch (RnnException ex) { Assert.True(Ids.Contains(ex.ErrorId), $"case {k}: unexpected id {ex.ErrorId}: {ex.Message}"); }
            }
        }
        finally { File.Delete(path); }
    }
}

using System.Text.Json.Nodes;
using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>
/// Files crafted against the readers (tests/fixtures/generate_hostile.py, byte by byte), each with what PyTorch or
/// NumPy did with it (hostile/cases.json). Every file ends within seconds, with no exception but an RnnException; a
/// file the cases say must be refused is refused with one of its ids; a file that is read gives PyTorch's tensors.
/// </summary>
public class HostileFileTests
{
    private static readonly string Folder = Path.Combine(Fixtures.Root, "hostile");
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static IEnumerable<object[]> Cases(string reader) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsArray()
            .Where(c => c!["reader"]!.GetValue<string>() == reader).Select(c => new object[] { c!["file"]!.GetValue<string>() });

    public static IEnumerable<object[]> ModelCases() => Cases("model");
    public static IEnumerable<object[]> StateCases() => Cases("state");

    private static JsonObject Case(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsArray().First(c => c!["file"]!.GetValue<string>() == file)!.AsObject();

    /// <summary>Runs <paramref name="read"/> on its own thread (under a memory limit there, as MemoryGuard's is per thread); fails when it does not end in time.</summary>
    private static (T? Value, RnnException? Error) Bounded<T>(Func<CancellationToken, T> read, long? memory = null)
    {
        using var stop = new CancellationTokenSource();
        var task = Task.Factory.StartNew(() =>
        {
            MemoryGuard.LimitForTests = memory;
            try { return (read(stop.Token), (RnnException?)null); }
            catch (RnnException ex) { return (default(T), ex); }
            finally { MemoryGuard.LimitForTests = null; }
        }, TaskCreationOptions.LongRunning);
        bool ended = task.Wait(Limit);
        stop.Cancel();
        Assert.True(ended, $"the read did not end within {Limit.TotalSeconds} s");
        return task.Result;   // any exception but an RnnException fails the test here
    }

    private static void Refused(RnnException? error, JsonObject c)
    {
        var ids = c["ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        Assert.True(error is not null, $"{c["file"]} ({c["what"]}) was not refused");
        Assert.Contains(error!.ErrorId, ids);
    }

    /// <summary>The file's tensors as PyTorch names them, with their shapes and (for small ones) values.</summary>
    private static void AgreesWithPyTorch(Dictionary<string, (long[] Shape, double[] Data)> read, JsonObject c)
    {
        var expected = c["torch"]!["tensors"]!.AsObject();
        Assert.Equal(expected.Select(kv => kv.Key).Order(), read.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor!["shape"]!.AsArray().Select(d => d!.GetValue<long>()), read[name].Shape);
            if (tensor["values"] is JsonArray values)
                Assert.Equal(values.Select(v => v!.GetValue<double>()), read[name].Data);
        }
    }

    [Theory]
    [MemberData(nameof(ModelCases))]
    public void AHostileModelFileIsRefusedWithItsIdOrReadsAsPyTorchReadsIt(string file)
    {
        var c = Case(file);
        string path = Path.Combine(Folder, file), expect = c["expect"]!.GetValue<string>();
        var (read, fileError) = Bounded(token =>
        {
            using var model = ModelFile.Open(path, token);
            return (Tensors: model.Tensors.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, kv.Value.Data)), model.Calls);
        });
        var tensors = read.Tensors;
        // A name Python would import or call, which the module neither refuses nor knows as data, is reported.
        if (c["warns"] is JsonArray warns)
            Assert.Equal(warns.Select(w => w!.GetValue<string>()).Order(), read.Calls!.Order());
        var (_, loadError) = Bounded(token => ModelLoader.Load(path, token: token));
        switch (expect)
        {
            case "refuse":
                // The first refusal on the way: reading every tensor, then building the model.
                Refused(fileError ?? loadError, c);
                break;
            case "agree":
                Assert.Null(fileError);
                AgreesWithPyTorch(tensors!, c);
                Assert.Null(loadError);
                break;
            default:
                if (fileError is null) AgreesWithPyTorch(tensors!, c);
                else Refused(fileError, c);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(StateCases))]
    public void AHostileStateFileIsRefusedWithItsIdOrReadsAsNumPyReadsIt(string file)
    {
        var c = Case(file);
        string path = Path.Combine(Folder, file), expect = c["expect"]!.GetValue<string>();
        // Under a memory limit smaller than the file's arrays, as on a node with little memory: refused before allocating.
        var (_, limited) = Bounded(_ => StateReader.Read(path), memory: 64L << 20);
        var (rows, error) = Bounded(_ => StateReader.Read(path));
        if (expect == "refuse")
        {
            Refused(error, c);
            return;
        }
        if (expect == "agree") Assert.Null(error);
        if (error is not null)
        {
            Refused(error, c);
            return;
        }
        var states = c["torch"]!["tensors"]!["states"]!;
        var shape = states["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
        Assert.Equal(shape[0], rows!.Count);
        Assert.All(rows, r => Assert.Equal(shape[1], r.State.Length));
        if (states["values"] is JsonArray values) Assert.Equal(values.Select(v => v!.GetValue<double>()), rows.SelectMany(r => r.State));
        if ((double)shape[0] * shape[1] * 8 > 64L << 20) Assert.Equal("InsufficientMemory", limited?.ErrorId);
    }

    [Fact]
    public void ATorchScriptArchiveIsNotRunUnlessAskedFor()
    {
        const string marker = "/tmp/rnnlinearization-hostile-marker";
        File.Delete(marker);
        var ex = Assert.Throws<RnnException>(() => ModelLoader.Load(Path.Combine(Folder, "f2_torchscript_from_file.pt"), inputSize: 2, hiddenSize: 2));
        Assert.Equal("TorchScriptNotRequested", ex.ErrorId);
        Assert.Contains("runs its code", ex.Message);
        Assert.False(File.Exists(marker));
        // Asked for, a harmless cell loads; whether its equations add biases is its own affair, not claimed either way.
        var cell = Assert.IsType<ScriptedRnn>(ModelLoader.Load(Path.Combine(Folder, "f2_torchscript_valid_cell.pt"), Architecture.TorchScript, inputSize: 2, hiddenSize: 3));
        Assert.Null(cell.HasBias);
    }

    [Fact]
    public void ARefusedPayloadNamesWhatItWouldCallAndRunsNothing()
    {
        foreach (var (file, name) in new[] { ("f7_pydoc_pipepager.pt", "pydoc"), ("f7_numpy_runstring.pt", "runstring"), ("f7_nested_torch_load.pt", "load"), ("f7_build_setstate.pt", "logging.FileHandler") })
        {
            var ex = Assert.Throws<RnnException>(() => ModelLoader.Load(Path.Combine(Folder, file)));
            Assert.Equal("PickleCallRefused", ex.ErrorId);
            Assert.Contains(name, ex.Message);
        }
        Assert.Empty(Directory.GetFiles("/tmp", "rnnlinearization-hostile-payload-*"));
    }
}

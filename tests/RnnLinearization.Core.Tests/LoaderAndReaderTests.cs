using Xunit;
using static RnnLinearization.Core.Tests.Fixtures;

namespace RnnLinearization.Core.Tests;

public class LoaderAndReaderTests
{
    [Theory]
    [InlineData("no_such_file.pt", "ModelFileNotFound", RnnErrorKind.ObjectNotFound)]
    [InlineData("bad_no_rnn_keys.pt", "NoRecurrentWeights", RnnErrorKind.InvalidData)]
    [InlineData("bad_not_a_model.pt", "UnknownModelFormat", RnnErrorKind.InvalidData)]
    [InlineData("bad_bidirectional.pt", "BidirectionalNotSupported", RnnErrorKind.NotImplemented)]
    public void BadModelFilesGiveTheirErrorId(string file, string id, RnnErrorKind kind)
    {
        var ex = Assert.Throws<RnnException>(() => ModelLoader.Load(Model(file)));
        Assert.Equal(id, ex.ErrorId);
        Assert.Equal(kind, ex.Kind);
    }

    [Theory]
    [InlineData("script_lowrank_i3_h6.pt", 3, null, "ScriptSizeRequired")]
    [InlineData("script_lowrank_i3_h6.pt", 4, 6, "ScriptForwardFailed")]
    [InlineData("script_lowrank_i3_h6.pt", 3, 7, "ScriptForwardFailed")]
    [InlineData("bad_script_one_argument.pt", 3, 3, "ScriptForwardFailed")]
    [InlineData("bad_script_wrong_shape.pt", 2, 4, "ScriptOutputShape")]
    [InlineData("rnn_i3_h7_tanh.pt", 3, 8, "ModelSizeMismatch")]
    public void TorchScriptCellsThatDoNotFitAreRefused(string file, int? inputSize, int? hiddenSize, string id)
    {
        var architecture = file.StartsWith("rnn_") ? (Architecture?)null : Architecture.TorchScript;
        var ex = Assert.Throws<RnnException>(() => ModelLoader.Load(Model(file), architecture, inputSize: inputSize, hiddenSize: hiddenSize));
        Assert.Equal(id, ex.ErrorId);
        Assert.Equal("NotTorchScript", Assert.Throws<RnnException>(() => ModelLoader.Load(Model("rnn_i3_h7_tanh.pt"), Architecture.TorchScript, inputSize: 3, hiddenSize: 7)).ErrorId);
    }

    [Fact]
    public void ArchitectureThatDoesNotMatchTheWeightsIsRefused()
    {
        var sd = ModelFactory.Create(Architecture.Rnn, 2, 3, 1, Nonlinearity.Tanh, true, 1).Parameters;
        var grown = sd.ToDictionary(kv => kv.Key, kv => kv.Key == "weight_hh_l0" ? new Parameter(new long[] { 12, 3 }, new double[36]) : kv.Value);
        Assert.Equal("ArchitectureMismatch", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(grown, Architecture.Rnn, Nonlinearity.Tanh, null)).ErrorId);
        Assert.Equal("ParameterShapeMismatch", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(grown, null, Nonlinearity.Tanh, null)).ErrorId);
        var fiveGates = sd.ToDictionary(kv => kv.Key, kv => kv.Key == "weight_hh_l0" ? new Parameter(new long[] { 15, 3 }, new double[45]) : kv.Value);
        Assert.Equal("ParameterShapeMismatch", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(fiveGates, null, Nonlinearity.Tanh, null)).ErrorId);
        Assert.Equal("ArchitectureNotSupported", Assert.Throws<RnnException>(() => ModelFactory.Create(Architecture.TorchScript, 2, 3, 1, Nonlinearity.Tanh, true, 1)).ErrorId);
        Assert.Equal("InvalidAlpha", Assert.Throws<RnnException>(() => ModelFactory.Create(Architecture.LeakyRnn, 2, 3, 1, Nonlinearity.Tanh, true, 1, alpha: 1.5)).ErrorId);
        var wrongShape = sd.ToDictionary(kv => kv.Key, kv => kv.Key == "bias_ih_l0" ? new Parameter(new long[] { 4 }, new double[4]) : kv.Value);
        Assert.Equal("ParameterShapeMismatch", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(wrongShape, null, Nonlinearity.Tanh, null)).ErrorId);
    }

    [Fact]
    public void SeveralRnnsInOneStateDictNeedAPrefix()
    {
        var sd = new Dictionary<string, Parameter>();
        foreach (var name in new[] { "encoder.", "decoder." })
            foreach (var (k, v) in ModelFactory.Create(Architecture.Rnn, 2, 3, 1, Nonlinearity.Tanh, true, 1).Parameters)
                sd[name + k] = v;
        Assert.Equal("AmbiguousPrefix", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null)).ErrorId);
        Assert.Equal(3, ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, "decoder").HiddenSize);
    }

    [Theory]
    [InlineData(Nonlinearity.Tanh, 1, true)]
    [InlineData(Nonlinearity.Relu, 3, false)]
    public void SafetensorsExportReadsBackExactly(Nonlinearity nl, int layers, bool bias)
    {
        var model = ModelFactory.Create(Architecture.Rnn, 4, 5, layers, nl, bias, 42);
        var path = Path.Combine(Path.GetTempPath(), $"rnnlin-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelWriter.Export(model, path);
            var back = ModelLoader.Load(path);
            Assert.Equal(nl, back.Nonlinearity);
            Assert.Equal(layers, back.NumLayers);
            Assert.Equal(bias, back.HasBias);
            Assert.Equal(model.Parameters.Keys.Order(), back.Parameters.Keys.Order());
            foreach (var (k, p) in model.Parameters)
            {
                Assert.Equal(p.Shape, back.Parameters[k].Shape);
                Assert.Equal(p.Data, back.Parameters[k].Data);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SafetensorsWritesFloat64WhenFloat32WouldLoseDigits()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rnnlin-{Guid.NewGuid():N}.safetensors");
        try
        {
            var p = new Dictionary<string, Parameter> { ["w"] = new(new long[] { 2 }, new[] { 0.1, 1.0 / 3 }), ["v"] = new(new long[] { 1 }, new[] { 0.5 }) };
            SafeTensors.Write(path, p, new Dictionary<string, string> { ["k"] = "v" });
            var (back, meta) = SafeTensors.Read(path);
            Assert.Equal(p["w"].Data, back["w"].Data);
            Assert.Equal(p["v"].Data, back["v"].Data);
            Assert.Equal("v", meta["k"]);
        }
        finally { File.Delete(path); }
    }

    public static TheoryData<string, string> StateFiles() => new()
    {
        { "states_f64.npy", "states" }, { "states_f32.npy", "states_f32" }, { "states_header.csv", "states" },
        { "states_noheader.csv", "states" }, { "states_arrays.json", "states" }, { "states_objects.json", "states" },
    };

    [Theory, MemberData(nameof(StateFiles))]
    public void StateFilesHoldTheNumbersNumpyWrote(string file, string key)
    {
        var expected = Matrix(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(States("expected.json")))![key]);
        var records = StateReader.Read(States(file));
        Assert.Equal(expected.Length, records.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], records[i].State);
    }

    [Theory]
    [InlineData("bad_fortran.npy", "InvalidStateFile")]
    [InlineData("bad_int.npy", "InvalidStateFile")]
    [InlineData("nothing_here.npy", "StateFileNotFound")]
    public void BadStateFilesGiveTheirErrorId(string file, string id) =>
        Assert.Equal(id, Assert.Throws<RnnException>(() => StateReader.Read(States(file))).ErrorId);

    [Fact]
    public void ShardsCutRowsIntoContiguousNearlyEqualPartsThatCoverEveryRowOnce()
    {
        for (long rows = 0; rows <= 40; rows++)
            for (int count = 1; count <= 9; count++)
            {
                long next = 0;
                for (int index = 0; index < count; index++)
                {
                    var (first, end) = new Shard(index, count).Slice(rows);
                    Assert.Equal(next, first);
                    // rows = q count + r: the first r shards take q + 1 rows, the others q.
                    long expected = rows / count + (index < rows % count ? 1 : 0);
                    Assert.Equal(expected, end - first);
                    next = end;
                }
                Assert.Equal(rows, next);
            }
    }
}

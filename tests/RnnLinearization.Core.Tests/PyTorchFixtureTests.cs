using System.Numerics;
using Xunit;
using static RnnLinearization.Core.Tests.Fixtures;

namespace RnnLinearization.Core.Tests;

/// <summary>The module's numbers against the seed's class and nn.RNN, run by real PyTorch.</summary>
public class PyTorchFixtureTests
{
    public static TheoryData<string, string> Models()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in ExpectedNames())
        {
            data.Add(name, ".pt");
            if (File.Exists(Model(name + ".safetensors"))) data.Add(name, ".safetensors");
        }
        return data;
    }

    private static (RnnModel Model, System.Text.Json.Nodes.JsonObject Expected) Load(string name, string extension)
    {
        var expected = Expected(name);
        int inputSize = expected["input_size"]!.GetValue<int>(), hiddenSize = expected["hidden_size"]!.GetValue<int>();
        RnnModel model;
        if (expected["architecture"]!.GetValue<string>() == "TorchScript")
        {
            // TorchScript records no sizes: they are given, and the module's own forward is checked against them.
            model = ModelLoader.Load(Model(name + extension), Architecture.TorchScript, inputSize: inputSize, hiddenSize: hiddenSize);
            Assert.IsType<ScriptedRnn>(model);
            Assert.Null(model.Nonlinearity);
        }
        else
        {
            var nl = Enum.Parse<Nonlinearity>(expected["nonlinearity"]!.GetValue<string>(), ignoreCase: true);
            double? alpha = expected["alpha"]?.GetValue<double>();
            model = ModelLoader.Load(Model(name + extension), alpha is null ? null : Architecture.LeakyRnn, nl, alpha: alpha);
            Assert.Equal(expected["bias"]!.GetValue<bool>(), model.HasBias);
        }
        Assert.Equal(inputSize, model.InputSize);
        Assert.Equal(hiddenSize, model.HiddenSize);
        Assert.Equal(expected["num_layers"]!.GetValue<int>(), model.NumLayers);
        return (model, expected);
    }

    [Theory, MemberData(nameof(Models))]
    public void JacobiansAndNextStateMatchPyTorch(string name, string extension)
    {
        var (model, expected) = Load(name, extension);
        var cases = expected["cases"]!.AsArray();
        var inputs = cases.Select(c => Vector(c!["input"])).ToArray();
        var states = cases.Select(c => Vector(c!["state"])).ToArray();
        var results = Linearization.Jacobians(model, inputs, states);
        for (int k = 0; k < cases.Count; k++)
        {
            Close(Vector(cases[k]!["next_state"]), results[k].NextState, what: "next");
            Close(Matrix(cases[k]!["state_jacobian"]), results[k].StateJacobian, what: "J_h");
            Close(Matrix(cases[k]!["input_jacobian"]), results[k].InputJacobian, what: "J_x");
            Assert.Equal(model.StateSize, results[k].StateJacobian.Length);
            int n = model.StateSize, m = model.InputSize;
            double[] next = new double[n], jh = new double[n * n], jx = new double[n * m];
            results.CopyTo(k, next, jh, jx);
            Close(Vector(cases[k]!["next_state"]), next, what: "next (buffer)");
            Close(Matrix(cases[k]!["state_jacobian"]).SelectMany(r => r).ToArray(), jh, what: "J_h (buffer)");
            Close(Matrix(cases[k]!["input_jacobian"]).SelectMany(r => r).ToArray(), jx, what: "J_x (buffer)");
            Assert.All(results[k].InputJacobian, row => Assert.Equal(model.InputSize, row.Length));
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void JacobianOperatorProductsMatchPyTorchsJacobians(string name, string extension)
    {
        // J v, J^T v and J at chosen rows, as the fixed-point search uses them (most models never form J there).
        var (model, expected) = Load(name, extension);
        var cases = expected["cases"]!.AsArray();
        int n = model.StateSize, b = cases.Count;
        var random = new Random(7);
        var v = Enumerable.Range(0, b).Select(_ => Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray()).ToArray();
        TorchRuntime.EnsureLoaded();
        using var scope = TorchSharp.torch.NewDisposeScope();
        var op = model.StateJacobianOperator(TensorData.FromRows(cases.Select(c => Vector(c!["input"])).ToArray(), model.InputSize),
            TensorData.FromRows(cases.Select(c => Vector(c!["state"])).ToArray(), n));
        var vt = TensorData.FromRows(v, n);
        var jv = TensorData.ToRows(op.Apply(vt));
        var jtv = TensorData.ToRows(op.ApplyTransposed(vt));
        var last = TensorData.Flat(op.Matrices(TorchSharp.torch.tensor(new long[] { b - 1 })));
        // For chosen rows only, twice with the same rows (a GMRES solve asks so): the same products.
        var chosen = TorchSharp.torch.tensor(new long[] { b - 1, 0 });
        var sub = TensorData.FromRows(new[] { v[b - 1], v[0] }, n);
        for (int again = 0; again < 2; again++)
        {
            var jvRows = TensorData.ToRows(op.Apply(sub, chosen));
            var jtvRows = TensorData.ToRows(op.ApplyTransposed(sub, chosen));
            Close(jv[b - 1], jvRows[0], rel: 1e-12, abs: 1e-14, what: "J v at a chosen row");
            Close(jv[0], jvRows[1], rel: 1e-12, abs: 1e-14, what: "J v at a chosen row");
            Close(jtv[b - 1], jtvRows[0], rel: 1e-12, abs: 1e-14, what: "J^T v at a chosen row");
            Close(jtv[0], jtvRows[1], rel: 1e-12, abs: 1e-14, what: "J^T v at a chosen row");
        }
        for (int k = 0; k < b; k++)
        {
            var j = Matrix(cases[k]!["state_jacobian"]);
            Close(j.Select(row => row.Zip(v[k], (x, y) => x * y).Sum()).ToArray(), jv[k], what: "J v");
            Close(Enumerable.Range(0, n).Select(c => Enumerable.Range(0, n).Sum(r => j[r][c] * v[k][r])).ToArray(), jtv[k], what: "J^T v");
            Close(Vector(cases[k]!["next_state"]), TensorData.ToRows(op.Next)[k], what: "next");
        }
        Close(Matrix(cases[b - 1]!["state_jacobian"]).SelectMany(r => r).ToArray(), last, what: "J at a row");
    }

    [Theory, MemberData(nameof(Models))]
    public void EigenvaluesMatchPyTorch(string name, string extension)
    {
        var (model, expected) = Load(name, extension);
        var cases = expected["cases"]!.AsArray();
        var inputs = cases.Select(c => Vector(c!["input"])).ToArray();
        var states = cases.Select(c => Vector(c!["state"])).ToArray();
        var spectra = Spectrum.FromModel(model, inputs, states, EigenSort.None, eigenvectors: true);
        for (int k = 0; k < cases.Count; k++)
        {
            var c = cases[k]!;
            Complex[] Pairs(string re, string im) => Vector(c[re]).Zip(Vector(c[im]), (a, b) => new Complex(a, b)).ToArray();
            SameMultiset(Pairs("eig_real64", "eig_imag64"), spectra[k].Eigenvalues, 1e-9);
            SameMultiset(Pairs("eig_real", "eig_imag"), spectra[k].Eigenvalues, 1e-5);   // the seed's float32-rounded parts
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void TaylorStepMatchesSeedForwardAndExactStepMatchesNnRnn(string name, string extension)
    {
        var (model, expected) = Load(name, extension);
        foreach (var c in expected["cases"]!.AsArray())
        {
            var r = Linearization.Taylor(model, Vector(c!["input"]), Vector(c["state"]), Vector(c["delta_input"]), Matrix(c["delta_state"]), exact: true);
            Close(Matrix(c["taylor"]), r.Linear, what: "linear");
            Close(Matrix(c["exact"]), r.Exact!, what: "exact");
            Close(Vector(c["next_state"]), r.NextState, what: "next");
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void TrajectoryMatchesNnRnn(string name, string extension)
    {
        var (model, expected) = Load(name, extension);
        var t = expected["trajectory"]!;
        var states = Linearization.Trajectory(model, Matrix(t["inputs"]), Vector(t["initial_state"]));
        Close(Matrix(t["states"]), states, what: "trajectory");
    }

    [Fact]
    public void PrefixedStateDictIsFoundWithAndWithoutPrefix()
    {
        var expected = Expected("prefixed_rnn_i3_h7_tanh");
        var c = expected["cases"]![0]!;
        foreach (var prefix in new[] { null, "rnn", "rnn." })
        {
            var model = ModelLoader.Load(Model("prefixed_rnn_i3_h7_tanh.pt"), prefix: prefix);
            var r = Linearization.Jacobians(model, new[] { Vector(c["input"]) }, new[] { Vector(c["state"]) })[0];
            Close(Matrix(c["state_jacobian"]), r.StateJacobian);
        }
        var ex = Assert.Throws<RnnException>(() => ModelLoader.Load(Model("prefixed_rnn_i3_h7_tanh.pt"), prefix: "encoder"));
        Assert.Equal("PrefixNotFound", ex.ErrorId);
    }
}

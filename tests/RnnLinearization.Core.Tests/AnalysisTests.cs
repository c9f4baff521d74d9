using System.Numerics;
using TorchSharp;
using Xunit;

namespace RnnLinearization.Core.Tests;

public class AnalysisTests
{
    private static readonly RnnModel Model = ModelFactory.Create(Architecture.Rnn, 3, 4, 2, Nonlinearity.Tanh, true, 9);

    [Theory]
    [InlineData(3, 7, "StateLengthMismatch")]
    [InlineData(2, 8, "InputLengthMismatch")]
    public void WrongLengthsAreRefusedBeforeAnyTensorCall(int inputLength, int stateLength, string id)
    {
        var ex = Assert.Throws<RnnException>(() => Linearization.Jacobians(Model, new[] { new double[inputLength] }, new[] { new double[stateLength] }));
        Assert.Equal(id, ex.ErrorId);
        Assert.Equal(RnnErrorKind.InvalidArgument, ex.Kind);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteValuesAreRefused(double bad)
    {
        var state = new double[8];
        state[5] = bad;
        Assert.Equal("NonFiniteValue", Assert.Throws<RnnException>(() => Spectrum.FromModel(Model, new[] { new double[3] }, new[] { state }, EigenSort.Magnitude, false)).ErrorId);
    }

    [Fact]
    public void TaylorRefusesBadPerturbations()
    {
        var ex = Assert.Throws<RnnException>(() => Linearization.Taylor(Model, new double[3], new double[8], null, new[] { new double[8], new double[7] }, false));
        Assert.Equal("DeltaStateLengthMismatch", ex.ErrorId);
        Assert.Contains("row 1", ex.Message);
        Assert.Equal("DeltaInputLengthMismatch", Assert.Throws<RnnException>(() => Linearization.Taylor(Model, new double[3], new double[8], new double[2], new[] { new double[8] }, false)).ErrorId);
    }

    [Theory]
    [InlineData(Architecture.Rnn)]
    [InlineData(Architecture.Gru)]
    [InlineData(Architecture.Lstm)]
    public void StackedJacobiansMatchCentralDifferences(Architecture architecture)
    {
        var model = ModelFactory.Create(architecture, 3, 4, 2, Nonlinearity.Tanh, true, 9);
        var rng = new Random(3);
        var x = Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5).ToArray();
        int n = model.StateSize;
        var h = Enumerable.Range(0, n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var j = Linearization.Jacobians(model, new[] { x }, new[] { h })[0];
        const double eps = 1e-6;
        for (int col = 0; col < n + 3; col++)
        {
            double[] Shift(double s)
            {
                var xs = (double[])x.Clone(); var hs = (double[])h.Clone();
                if (col < n) hs[col] += s; else xs[col - n] += s;
                return Linearization.Step(model, new[] { xs }, new[] { hs })[0];
            }
            var plus = Shift(eps); var minus = Shift(-eps);
            for (int row = 0; row < n; row++)
            {
                double fd = (plus[row] - minus[row]) / (2 * eps);
                double closed = col < n ? j.StateJacobian[row][col] : j.InputJacobian[row][col - n];
                Assert.True(Math.Abs(fd - closed) < 1e-7, $"d{row}/d{col}: fd {fd}, closed form {closed}");
            }
        }
    }

    /// <summary>The second, independent check: each cell's closed form against autograd through its own update (Step).</summary>
    [Theory]
    [InlineData(Architecture.Rnn, Nonlinearity.Tanh, 1)]
    [InlineData(Architecture.Rnn, Nonlinearity.Relu, 1)]
    [InlineData(Architecture.Rnn, Nonlinearity.Tanh, 3)]
    [InlineData(Architecture.Gru, Nonlinearity.Tanh, 1)]
    [InlineData(Architecture.Gru, Nonlinearity.Tanh, 2)]
    [InlineData(Architecture.Lstm, Nonlinearity.Tanh, 1)]
    [InlineData(Architecture.Lstm, Nonlinearity.Tanh, 2)]
    [InlineData(Architecture.LeakyRnn, Nonlinearity.Softplus, 1)]
    [InlineData(Architecture.LeakyRnn, Nonlinearity.Sigmoid, 1)]
    [InlineData(Architecture.LeakyRnn, Nonlinearity.Relu, 1)]
    public void ClosedFormJacobiansMatchAutogradOnRandomStates(Architecture architecture, Nonlinearity nonlinearity, int layers)
    {
        var model = ModelFactory.Create(architecture, 3, 5, layers, nonlinearity, true, 11, alpha: architecture == Architecture.LeakyRnn ? 0.2 : null);
        var rng = new Random(5);
        double[] Draw(int n) => Enumerable.Range(0, n).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        const int batch = 6;
        var xs = Enumerable.Range(0, batch).Select(_ => Draw(3)).ToArray();
        var hs = Enumerable.Range(0, batch).Select(_ => Draw(model.StateSize)).ToArray();
        var closed = Linearization.Jacobians(model, xs, hs);
        using var scope = torch.NewDisposeScope();
        var (next, jh, jx) = Autograd.Linearize(model.Step, TensorData.FromRows(xs, 3), TensorData.FromRows(hs, model.StateSize));
        double[] nextAll = TensorData.Flat(next), jhAll = TensorData.Flat(jh), jxAll = TensorData.Flat(jx);
        int s = model.StateSize;
        for (int b = 0; b < batch; b++)
        {
            var c = closed[b];
            Fixtures.Close(nextAll.AsSpan(b * s, s).ToArray(), c.NextState, 1e-12, 1e-14, "next");
            Fixtures.Close(TensorData.Split(jhAll.AsSpan(b * s * s, s * s), s, s), c.StateJacobian, 1e-10, 1e-13, $"J_h[{b}]");
            Fixtures.Close(TensorData.Split(jxAll.AsSpan(b * s * 3, s * 3), s, 3), c.InputJacobian, 1e-10, 1e-13, $"J_x[{b}]");
        }
    }

    [Fact]
    public void ScaledRotationHasItsClosedFormSpectrum()
    {
        // r * [[cos t, -sin t], [sin t, cos t]] has eigenvalues r e^{+-it}, eigenvectors (1, -+i)/sqrt 2.
        double r = 0.9, t = 0.3;
        var a = new[] { new[] { r * Math.Cos(t), -r * Math.Sin(t) }, new[] { r * Math.Sin(t), r * Math.Cos(t) } };
        var diag = new[] { new[] { 0.5, 0.0, 0.0 }, new[] { 0.0, -2.0, 0.0 }, new[] { 0.0, 0.0, 1.0 } };
        var result = Spectrum.FromMatrices(new[] { a, diag, a }, EigenSort.Magnitude, true);
        foreach (var e in new[] { result[0], result[2] })
        {
            Assert.Equal(r, e.SpectralRadius, 12);
            Assert.True(e.IsStable);
            Assert.Contains(e.Eigenvalues, l => Complex.Abs(l - Complex.FromPolarCoordinates(r, t)) < 1e-12);
            Assert.Contains(e.Eigenvalues, l => Complex.Abs(l - Complex.FromPolarCoordinates(r, -t)) < 1e-12);
            for (int k = 0; k < 2; k++)   // A v = lambda v
                for (int i = 0; i < 2; i++)
                {
                    var av = a[i][0] * e.Eigenvectors![k][0] + a[i][1] * e.Eigenvectors[k][1];
                    Assert.True(Complex.Abs(av - e.Eigenvalues[k] * e.Eigenvectors[k][i]) < 1e-12);
                }
            Assert.Equal(2 * Math.PI / t, Spectrum.Period(e.Eigenvalues[0]), 9);
            Assert.Equal(-1 / Math.Log(r), Spectrum.TimeConstant(e.Eigenvalues[0]), 9);
        }
        Assert.Equal(new Complex[] { -2, 1, 0.5 }, result[1].Eigenvalues);
        Assert.Equal(1, result[1].UnstableCount);
        Assert.False(result[1].IsStable);
        Assert.Equal(2, Spectrum.Period(new Complex(-0.5, 0)), 12);
        Assert.Equal(double.PositiveInfinity, Spectrum.TimeConstant(new Complex(0, 1)));
        Assert.Equal(double.PositiveInfinity, Spectrum.Period(new Complex(0.5, 0)));
        Assert.True(Spectrum.TimeConstant(new Complex(2, 0)) < 0);
    }
}

/// <summary>Counts live tensors process-wide, so it runs alone.</summary>
[CollectionDefinition(nameof(TensorLifetime), DisableParallelization = true)]
public class TensorLifetime { }

[Collection(nameof(TensorLifetime))]
public class TensorLifetimeTests
{
    private static readonly RnnModel Model = ModelFactory.Create(Architecture.Rnn, 3, 4, 2, Nonlinearity.Tanh, true, 9);

    [Fact]
    public void NoTensorOutlivesACall()
    {
        var states = Enumerable.Range(0, 50).Select(i => Enumerable.Range(0, 8).Select(k => Math.Sin(i + k)).ToArray()).ToArray();
        var inputs = states.Select(_ => new double[3]).ToArray();
        Linearization.Jacobians(Model, inputs, states).ToList();   // warm-up: lazily created tensors, if any
        Spectrum.FromModel(Model, inputs, states, EigenSort.Magnitude, false, Precision.Single);
        // Others' unreachable tensors are finalized now, so that only this test's work moves the count.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = torch.Tensor.TotalCount;
        Linearization.Jacobians(Model, inputs, states).ToList();
        Spectrum.FromModel(Model, inputs, states, EigenSort.Magnitude, true);
        Spectrum.FromModel(Model, inputs, states, EigenSort.Magnitude, true, Precision.Single);
        Linearization.Jacobians(Model, inputs, states, Precision.Single).ToList();
        Linearization.Taylor(Model, inputs[0], states[0], null, states, true);
        Linearization.Trajectory(Model, inputs, null);
        Assert.Equal(before, torch.Tensor.TotalCount);
    }
}

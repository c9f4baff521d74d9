using System.Numerics;
using Xunit;

namespace RnnLinearization.Core.Tests;

public class FixedPointTests
{
    /// <summary>Solves A x = b by Gaussian elimination with partial pivoting: the closed form, independent of libtorch.</summary>
    private static double[] Solve(double[][] a, double[] b)
    {
        int n = b.Length;
        var m = a.Select((row, i) => row.Append(b[i]).ToArray()).ToArray();
        for (int c = 0; c < n; c++)
        {
            int p = Enumerable.Range(c, n - c).OrderByDescending(r => Math.Abs(m[r][c])).First();
            (m[c], m[p]) = (m[p], m[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r][c] / m[c][c];
                for (int k = c; k <= n; k++) m[r][k] -= f * m[c][k];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
            x[r] = (m[r][n] - Enumerable.Range(r + 1, n - r - 1).Sum(k => m[r][k] * x[k])) / m[r][r];
        return x;
    }

    [Fact]
    public void FindsTheFixedPointOfALinearRateNetworkInClosedForm()
    {
        // x' = x + alpha (-x + W x + W_in u + b): the fixed point solves (I - W) x = W_in u + b.
        var model = ModelFactory.Create(Architecture.LeakyRnn, 2, 6, 1, Nonlinearity.Linear, true, 11, alpha: 0.3);
        var w = model.Parameters["weight_hh"];
        var win = model.Parameters["weight_ih"];
        var bias = model.Parameters["bias"].Data;
        var u = new[] { 0.4, -0.7 };
        var a = Enumerable.Range(0, 6).Select(i => Enumerable.Range(0, 6).Select(j => (i == j ? 1 : 0) - w.Data[i * 6 + j]).ToArray()).ToArray();
        var rhs = Enumerable.Range(0, 6).Select(i => win.Data[i * 2] * u[0] + win.Data[i * 2 + 1] * u[1] + bias[i]).ToArray();
        var expected = Solve(a, rhs);

        var starts = FixedPoints.Starts(new[] { new double[6] }, 4, 2.0, 5);
        var points = FixedPoints.Find(model, u, starts, new FixedPointOptions());
        var point = Assert.Single(points);
        Fixtures.Close(expected, point.State, rel: 0, abs: 1e-10);
        Assert.Equal(4, point.StartCount);
        Assert.True(point.Q < 1e-24);
    }

    [Theory]
    [InlineData(TrustRegionNewton.FormedBelowSize)]
    [InlineData(256)]   // where libtorch's batched LU on two threads gets its pivots wrong
    [InlineData(12)]
    public void NewtonStepsMeetTheirResidualBoundAndReuseEachStartsOwnFactors(int size)
    {
        int threads = TorchRuntime.Threads;
        TorchRuntime.Threads = 2;
        try { CheckNewtonSteps(size); }
        finally { TorchRuntime.Threads = threads; }
    }

    private static void CheckNewtonSteps(int size)
    {
        // The solver's contract: J_r n + r = e with |e| <= min(|r|, 1e-2) |r|, checked against the closed-form Jacobian
        // (itself checked against PyTorch) and Gaussian elimination; a start's first step factorises, its later steps
        // near the first reuse its own factors (GMRES), and a start never uses another start's.
        var model = ModelFactory.Create(Architecture.Rnn, 2, size, 1, Nonlinearity.Tanh, true, 3);
        var random = new Random(5);
        var u = new[] { 0.3, -0.2 };
        var states = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, size).Select(_ => random.NextDouble() - 0.5).ToArray()).ToArray();
        var nearby = states.Select(h => h.Select(v => v + 1e-3 * (random.NextDouble() - 0.5)).ToArray()).ToArray();
        TorchRuntime.EnsureLoaded();
        var solver = new NewtonStepSolver(size, 8);

        void Check(double[][] at, int[] rows, int[] owners)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var x = TensorData.FromRows(at, size);
            var op = model.StateJacobianOperator(TensorData.FromRows(at.Select(_ => u).ToArray(), 2), x);
            var r = op.Next - x;
            var (n, e, usable) = solver.Solve(r, op, rows, owners);
            var steps = TensorData.ToRows(n);
            var errors = TensorData.ToRows(e);
            var jacobians = Linearization.Jacobians(model, rows.Select(_ => u).ToArray(), rows.Select(k => at[k]).ToArray());
            var residuals = TensorData.ToRows(r);
            Assert.All(TensorData.Flat(usable), ok => Assert.Equal(1.0, ok));
            for (int k = 0; k < rows.Length; k++)
            {
                var jr = jacobians[k].StateJacobian.Select((row, i) => row.Select((v, j) => v - (i == j ? 1 : 0)).ToArray()).ToArray();
                var res = residuals[rows[k]];
                var error = jr.Select((row, i) => row.Zip(steps[k], (a, b) => a * b).Sum() + res[i]).ToArray();
                double rNorm = Math.Sqrt(res.Sum(v => v * v)), eNorm = Math.Sqrt(error.Sum(v => v * v));
                Assert.True(eNorm <= Math.Clamp(rNorm, 1e-10, 1e-2) * rNorm + 1e-14, $"|e| = {eNorm} for |r| = {rNorm}");
                // e as reported (zero after an LU, whose error is rounding), and n as elimination finds it, up to e.
                Fixtures.Close(error, errors[k], rel: 0, abs: 1e-12 * (1 + rNorm), what: "e = J_r n + r");
                Fixtures.Close(Solve(jr, res.Select(v => -v).ToArray()), steps[k], rel: 1e-2, abs: 1e-2 * rNorm);
            }
        }

        Check(states, new[] { 0, 1, 2, 3, 4, 5 }, new[] { 0, 1, 2, 3, 4, 5 });
        Assert.Equal((6, 0), (solver.Factorised, solver.Iterated));
        Check(nearby, new[] { 1, 3, 4 }, new[] { 1, 3, 4 });   // some rows of a batch, each near its own start's factors
        Assert.Equal((6, 3), (solver.Factorised, solver.Iterated));
        Check(nearby, new[] { 0, 5 }, new[] { 6, 7 });         // starts without factors: never another start's
        Assert.Equal((8, 3), (solver.Factorised, solver.Iterated));
        solver.Forget();
        Check(nearby, new[] { 1 }, new[] { 1 });
        Assert.Equal((9, 3), (solver.Factorised, solver.Iterated));
    }

    [Theory]
    [InlineData(TrustRegionNewton.FormedBelowSize)]   // products with the Jacobian operator, factors reused
    [InlineData(12)]                                   // J formed, managed LUs
    public void ANewtonSearchRepeatsBitForBit(int hidden)
    {
        // The soak's promise (every pass equals the first, bit for bit, on one thread): nothing may depend on where the
        // garbage collector happened to put an array (MKL rounds differently with the alignment of its operands).
        var model = ModelFactory.Create(Architecture.Gru, 3, hidden, 1, Nonlinearity.Tanh, true, 11);
        var states = Enumerable.Range(1, 24).Select(k => Enumerable.Range(1, model.StateSize).Select(i => 0.8 * Math.Sin(0.11 * k * i)).ToArray()).ToArray();
        var starts = FixedPoints.Starts(states, 32, 0.1, 2);
        var u = new double[model.InputSize];
        int threads = TorchRuntime.Threads;
        TorchRuntime.Threads = 1;
        try
        {
            var first = FixedPoints.Search(model, u, starts, new FixedPointOptions());
            var random = new Random(1);
            var keep = new List<double[]>();
            for (int run = 0; run < 6; run++)
            {
                for (int k = 0; k < 50; k++) keep.Add(new double[1 + random.Next(40)]);   // moves where the next arrays land
                var again = FixedPoints.Search(model, u, starts, new FixedPointOptions());
                for (int i = 0; i < first.Length; i++)
                    Assert.True(first[i].State.SequenceEqual(again[i].State), $"run {run}, start {i}: not the same bits");
            }
            GC.KeepAlive(keep);
        }
        finally { TorchRuntime.Threads = threads; }
    }

    [Theory]
    [InlineData("flipflop256.pt", true)]
    [InlineData("networks/flipflop16.pt", false)]
    public void AStartsNewtonSearchDoesNotDependOnTheOtherStartsSearchedWithIt(string file, bool operatorPath)
    {
        // What lets shards of the starts join into the one-process result: each start alone, in a batch, and in another
        // batch ends at the same state (to rounding) after the same number of iterations. Flip-flops of the benchmarks
        // (trained by examples/train_flipflop.py and bench/train_networks.py): 256 units, large enough that later Newton
        // steps reuse factors, and 16, where J is formed.
        var model = ModelLoader.Load(Path.Combine(Fixtures.Root, "..", "..", "bench", file));
        Assert.Equal(operatorPath, model.StateSize >= TrustRegionNewton.FormedBelowSize);
        // Starts as users draw them: states along a trajectory under random pulses, plus noise.
        var random = new Random(11);
        var pulses = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, model.InputSize)
            .Select(_ => random.NextDouble() < 0.05 ? (random.NextDouble() < 0.5 ? -1.0 : 1.0) : 0).ToArray()).ToArray();
        var trajectory = Linearization.Trajectory(model, pulses, null);
        var starts = FixedPoints.Starts(trajectory, 64, 0.5, 3);
        var u = new double[model.InputSize];
        var options = new FixedPointOptions();
        var all = FixedPoints.Search(model, u, starts, options);
        var reversed = FixedPoints.Search(model, u, starts.Reverse().ToArray(), options).Reverse().ToArray();
        var halves = FixedPoints.Search(model, u, starts[..25], options).Concat(FixedPoints.Search(model, u, starts[25..], options)).ToArray();
        for (int k = 0; k < starts.Length; k++)
            foreach (var other in new[] { reversed[k], halves[k] })
            {
                Fixtures.Close(all[k].State, other.State, rel: 1e-12, abs: 1e-13, what: $"start {k}");
                Assert.InRange(other.Iterations, all[k].Iterations - 1, all[k].Iterations + 1);
            }
        for (int k = 0; k < starts.Length; k += 21)
            Fixtures.Close(all[k].State, FixedPoints.Search(model, u, new[] { starts[k] }, options)[0].State, rel: 1e-12, abs: 1e-13, what: $"start {k} alone");
        Assert.True(all.Count(p => p.Q < 1e-20) >= 50, "most starts reach a fixed point");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(37)]
    public void ADenseLuSolvesASystemWhoseSolutionIsKnown(int n)
    {
        // b = A x for a chosen x; A Gaussian with a zero first pivot, so a row interchange is needed from the start.
        var random = new Random(n);
        var a = Enumerable.Range(0, n * n).Select(_ => random.NextDouble() - 0.5).ToArray();
        a[0] = 0;
        if (n == 1) a[0] = 0.7;
        var x = Enumerable.Range(0, n).Select(i => Math.Sin(i + 1.0)).ToArray();
        var b = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => a[i * n + j] * x[j])).ToArray();
        var lu = (double[])a.Clone();
        var swaps = new int[n];
        Assert.True(DenseLu.Factor(lu, n, swaps));
        if (n > 1) Assert.NotEqual(0, swaps[0]);
        DenseLu.Solve(lu, n, swaps, b);
        Fixtures.Close(x, b, rel: 0, abs: 1e-10, what: "x");
    }

    [Fact]
    public void ADenseLuRefusesASingularOrNonFiniteMatrix()
    {
        var swaps = new int[3];
        Assert.False(DenseLu.Factor(new double[] { 1, 2, 3, 2, 4, 6, 0, 1, 1 }, 3, swaps));   // row 2 = 2 row 1
        Assert.False(DenseLu.Factor(new double[] { 1, 0, 0, 0, double.NaN, 0, 0, 0, 1 }, 3, swaps));
        Assert.Throws<ArgumentException>(() => DenseLu.Factor(new double[8], 3, swaps));
    }

    [Fact]
    public void TheLineAttractorScoreComparesTheTwoSlowestModes()
    {
        // |1 - lambda|: 0.01 (slowest), 0.1, 0.5 -> log2(0.1 / 0.01).
        var score = FixedPoints.LineAttractorScore(new Complex[] { 0.5, 0.99, 0.9 });
        Assert.Equal(Math.Log2(10), score, 12);
        Assert.True(double.IsNaN(FixedPoints.LineAttractorScore(new Complex[] { 0.5 })));
    }

    [Fact]
    public void FiltersDropQAndDistanceOutliersAndMergeWithinTheTolerance()
    {
        var starts = new[] { new[] { 0.0, 0 }, new[] { 1.0, 0 }, new[] { 0.0, 1 }, new[] { 1.0, 1 } };
        var searches = new[]
        {
            new FixedPointSearch(0, new[] { 0.5, 0.5 }, 1e-20, 3),
            new FixedPointSearch(1, new[] { 0.5004, 0.5 }, 1e-25, 3),      // the same point, lower q: kept
            new FixedPointSearch(2, new[] { 0.5, 0.6 }, 1e-22, 3),         // another point
            new FixedPointSearch(3, new[] { 40.0, 40 }, 1e-22, 3),         // far from every start
            new FixedPointSearch(4, new[] { 0.2, 0.2 }, 1e-6, 3),          // q above tol_q
        };
        var kept = FixedPoints.Filter(searches, starts, new FixedPointOptions());
        Assert.Equal(2, kept.Count);
        Assert.Equal(1e-25, kept[0].Point.Q);
        Assert.Equal(2, kept[0].Count);
        Assert.Equal(0, kept[0].Point.Start);
        Assert.Equal(new[] { 0.5, 0.6 }, kept[1].Point.State);

        var slow = FixedPoints.Filter(searches, starts, new FixedPointOptions { MaxQ = 1e-4, OutlierDistance = 0 });
        Assert.Equal(4, slow.Count);
    }

    [Fact]
    public void StartsAreDrawnRepeatablyWithNoise()
    {
        var states = new[] { new[] { 1.0, 2 }, new[] { 3.0, 4 } };
        var drawn = FixedPoints.Starts(states, 100, 0, 3);
        Assert.Equal(100, drawn.Length);
        Assert.All(drawn, s => Assert.Contains(states, t => t.SequenceEqual(s)));
        Assert.InRange(drawn.Count(s => s[0] == 1.0), 20, 80);
        var a = FixedPoints.Starts(states.Take(1).ToArray(), 2000, 0.5, 7);
        Assert.Equal(a.SelectMany(s => s), FixedPoints.Starts(states.Take(1).ToArray(), 2000, 0.5, 7).SelectMany(s => s));
        var deviations = a.SelectMany(s => new[] { s[0] - 1, s[1] - 2 }).ToArray();
        Assert.InRange(deviations.Average(), -0.05, 0.05);
        Assert.InRange(Math.Sqrt(deviations.Select(d => d * d).Average()), 0.47, 0.53);
        Assert.Equal(states.SelectMany(s => s), FixedPoints.Starts(states, null, 0, null).SelectMany(s => s));
        Assert.Equal("NoInitialStates", Assert.Throws<RnnException>(() => FixedPoints.Starts(Array.Empty<double[]>(), null, 0, null)).ErrorId);
        Assert.Equal("InvalidNoise", Assert.Throws<RnnException>(() => FixedPoints.Starts(states, null, double.NaN, null)).ErrorId);
    }

    [Fact]
    public void ASearchStopsWhenCancelled()
    {
        var model = ModelFactory.Create(Architecture.Rnn, 2, 8, 1, Nonlinearity.Tanh, true, 3);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var starts = FixedPoints.Starts(new[] { new double[8] }, 16, 1, 1);
        foreach (var method in new[] { FixedPointMethod.Newton, FixedPointMethod.Adam })
            Assert.ThrowsAny<OperationCanceledException>(() => FixedPoints.Find(model, new double[2], starts, new FixedPointOptions { Method = method }, null, cancel.Token));
    }

    [Fact]
    public void ThePlaneOfPrincipalComponentsIsTheOneTheStatesSpan()
    {
        // States c + t1 e1 * 3 + t2 e2 with e1, e2 orthonormal: the components are e1 (more variance) and e2, signs as chosen.
        var model = ModelFactory.Create(Architecture.Rnn, 1, 3, 1, Nonlinearity.Tanh, true, 1);
        var e1 = new[] { 0.6, 0.8, 0 };
        var e2 = new[] { -0.8, 0.6, 0 };
        var c = new[] { 0.1, -0.2, 0.3 };
        var states = new List<double[]>();
        foreach (var t1 in new[] { -1.0, 0, 1 })
            foreach (var t2 in new[] { -1.0, 1 })
                states.Add(c.Select((ci, i) => ci + 3 * t1 * e1[i] + t2 * e2[i]).ToArray());
        var plane = FlowField.Plane(model, states, null, null, null);
        Fixtures.Close(c, plane.Center, rel: 0, abs: 1e-12);
        Fixtures.Close(e1, plane.Axis1, rel: 0, abs: 1e-12);
        Fixtures.Close(new[] { 0.8, -0.6, 0 }, plane.Axis2, rel: 0, abs: 1e-12);   // largest entry made positive
        Assert.Equal(1.2 * 3, plane.ExtentX, 12);
        Assert.Equal(1.2, plane.ExtentY, 12);
        Assert.Equal("PlaneUndefined", Assert.Throws<RnnException>(() => FlowField.Plane(model, new[] { c, c }, null, null, null)).ErrorId);
    }

    [Fact]
    public void AReadoutIsFoundWhenUnambiguousAndChosenOtherwise()
    {
        var rnn = ModelFactory.Create(Architecture.Lstm, 2, 3, 2, Nonlinearity.Tanh, true, 4);
        var sd = rnn.Parameters.ToDictionary(kv => "rnn." + kv.Key, kv => kv.Value);
        var weight = new Parameter(new long[] { 2, 3 }, new[] { 1.0, 2, 3, 4, 5, 6 });
        sd["readout.weight"] = weight;
        sd["readout.bias"] = new Parameter(new long[] { 2 }, new[] { 0.5, -0.5 });
        sd["encoder.weight"] = new Parameter(new long[] { 3, 2 }, new double[6]);   // not [outputs, hidden]: not a readout
        var model = ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null);
        Assert.NotNull(model.Readout);
        Assert.Equal(2, model.OutputSize);
        Assert.Contains(model.LoadNotes, n => n.Contains("readout.weight"));
        // An LSTM's readout reads the top layer's h: state [h0; c0; h1; c1], h1 = (1, 1, 1) -> W h1 + b.
        var state = new double[] { 0, 0, 0, 9, 9, 9, 1, 1, 1, 7, 7, 7 };
        Assert.Equal(new[] { 6.5, 14.5 }, model.Output(state));

        sd["head.weight"] = weight;
        var ambiguous = ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null);
        Assert.Null(ambiguous.Readout);
        Assert.Contains(ambiguous.LoadNotes, n => n.Contains("'head'") && n.Contains("'readout'"));
        Assert.Equal(2, ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null, readout: "head").OutputSize);
        Assert.Null(ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null, noReadout: true).Readout);
        Assert.Equal("ReadoutShapeMismatch", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null, readout: "encoder")).ErrorId);
        Assert.Equal("ReadoutNotFound", Assert.Throws<RnnException>(() => ModelFactory.FromStateDict(sd, null, Nonlinearity.Tanh, null, readout: "decoder")).ErrorId);
    }

    [Fact]
    public void AnExportedModelKeepsItsReadout()
    {
        var rnn = ModelFactory.Create(Architecture.Rnn, 2, 3, 1, Nonlinearity.Relu, true, 4);
        var sd = rnn.Parameters.ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["fc.weight"] = new Parameter(new long[] { 1, 3 }, new[] { 1.0, -1, 0.5 });
        var model = ModelFactory.FromStateDict(sd, null, Nonlinearity.Relu, null);
        var path = Path.Combine(Path.GetTempPath(), $"readout-{Guid.NewGuid()}.safetensors");
        try
        {
            ModelWriter.Export(model, path);
            var again = ModelLoader.Load(path);
            Assert.Equal(1, again.OutputSize);
            Assert.Equal(new[] { 2.0 - 1 + 0.5 * 3 }, again.Output(new[] { 2.0, 1, 3 }));
            Assert.Equal(Nonlinearity.Relu, again.Nonlinearity);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TheSummarySuggestsMoreIterationsOnlyWhereStartsMetTheLimit()
    {
        var stalled = new FixedPointSummary(10, 7, 0, 3, 0, 1, 0, double.NaN, 1e-5).Text();
        Assert.DoesNotContain("-MaxIterations", stalled);
        Assert.Contains("3 stalled", stalled);
        Assert.Contains("stall less", stalled);
        var capped = new FixedPointSummary(10, 7, 0, 0, 3, 1, 0, double.NaN, 1e-5).Text();
        Assert.Contains("-MaxIterations gives more iterations", capped);
        Assert.DoesNotContain("stall less", capped);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>How a Lyapunov spectrum is estimated. Steps are the network's steps; rates come out per step.</summary>
public sealed class LyapunovOptions
{
    /// <summary>Steps over which the exponents are averaged, after the warm-up.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Steps run first and discarded: the state settles onto its attractor and the tangent vectors align.</summary>
    public int WarmUp { get; init; } = 200;

    /// <summary>Steps between QR re-orthonormalisations of the tangent vectors.</summary>
    public int OrthonormalizeEvery { get; init; } = 10;

    /// <summary>How many exponents (the largest); all of them (the state size) when null.</summary>
    public int? Count { get; init; }

    /// <summary>Pieces the averaged steps are cut into: their exponents give the interval from one trajectory, and the local exponents.</summary>
    public int Segments { get; init; } = 10;

    /// <summary>Seed of the random orthonormal tangent vectors to start from.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>
/// A Lyapunov spectrum estimated along trajectories: exponents per step (largest first),
/// their 95% interval, and what follows from them. Interval: "trajectories" when several were run (the spread of their
/// estimates), else "segments" (the spread of the segments' estimates of the one trajectory: batch means).
/// </summary>
/// <param name="Local">Per trajectory, per segment: each exponent over that segment alone (the local, finite-time exponents).</param>
public sealed record LyapunovResult(double[] Exponents, double[] Lower, double[] Upper, string Interval, int Trajectories, int Steps,
    double[][][] Local)
{
    /// <summary>
    /// The Kaplan-Yorke dimension: j + (lambda_1 + ... + lambda_j) / |lambda_(j+1)|, j the most exponents whose sum is
    /// not negative; 0 when the largest is negative; NaN when every computed exponent's sum stays non-negative but
    /// the spectrum was cut (-Count): the dimension is then at least Count.
    /// </summary>
    public double KaplanYorkeDimension(int stateSize)
    {
        var l = Exponents.OrderByDescending(x => x).ToArray();
        if (l.Length == 0 || l[0] < 0) return 0;
        double sum = 0;
        for (int j = 0; j < l.Length; j++)
        {
            if (sum + l[j] < 0) return j + sum / Math.Abs(l[j]);
            sum += l[j];
        }
        return l.Length == stateSize ? l.Length : double.NaN;
    }

    /// <summary>The sum of the positive exponents: Pesin's upper bound on the entropy rate.</summary>
    public double EntropyBound => Exponents.Where(x => x > 0).Sum();
}

/// <summary>
/// Lyapunov spectra by the QR method (Benettin; Engelken, Wolf and Abbott 2023): m orthonormal tangent vectors Q are
/// carried along each trajectory by the state Jacobians, Q_(t+1) = J_t Q_t, and re-orthonormalised every k steps by
/// QR; the exponents are the means of log |R_ii| per step. Trajectories run as one batch, their m vectors as rows of
/// one matrix [B m, S]: each step applies the model's <see cref="JacobianOperator"/> to all of them at once (for the
/// closed-form models a product with the weights, J never formed; TorchScript forms J by autograd). Over the full spectrum, the sum of the exponents is the mean of log |det J_t| over the same steps,
/// exactly up to rounding (the tests check it against numpy's slogdet of the module's Jacobians).
/// </summary>
public static class Lyapunov
{
    /// <summary>
    /// The spectrum along trajectories from <paramref name="initialStates"/>, each driven by its inputs: inputs[b] holds
    /// one input (held) or a sequence (cycled when shorter than the run). <paramref name="progress"/> gets the steps done.
    /// </summary>
    public static LyapunovResult Spectrum(RnnModel model, IReadOnlyList<double[]> initialStates, IReadOnlyList<IReadOnlyList<double[]>> inputs,
        LyapunovOptions options, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        int s = model.StateSize, b = initialStates.Count;
        int m = options.Count ?? s;
        Check(model, initialStates, inputs, options, m);
        TorchRuntime.EnsureLoaded();
        using var threads = TorchRuntime.SequentialSteps(s);
        int total = options.WarmUp + options.Steps, every = options.OrthonormalizeEvery, segments = Math.Min(options.Segments, options.Steps);
        // A model without closed-form products forms J for each of the B m rows ([B m, S, S]).
        double matrices = model is ScriptedRnn ? MemoryGuard.Matrices(b * m, s) : MemoryGuard.Matrices(b, s);
        MemoryGuard.Require(matrices + 8.0 * b * s * m * 3, $"Lyapunov spectra of {b} trajector{(b == 1 ? "y" : "ies")} of {s} values");
        var sums = new double[b, m];
        var local = new double[b][][];
        for (int k = 0; k < b; k++) local[k] = Enumerable.Range(0, segments).Select(_ => new double[m]).ToArray();
        var segmentSteps = new int[segments];
        using var scope = torch.NewDisposeScope();
        var h = TensorData.Aligned(initialStates.SelectMany(x => x).ToArray(), b, s);
        var q = StartingVectors(b, s, m, options.Seed);   // [B m, S]: trajectory k's vectors are rows k m .. k m + m - 1
        var owner = torch.arange(b, dtype: ScalarType.Int64).repeat_interleave(m);
        bool held = inputs.All(x => x.Count == 1);
        var heldInput = held ? InputsAt(0) : null;   // made once when no trajectory's input changes
        int since = 0;   // steps since the last QR
        for (int t = 0; t < total; t++)
        {
            cancel.ThrowIfCancellationRequested();
            using var inner = torch.NewDisposeScope();
            var op = model.StateJacobianOperator(heldInput ?? InputsAt(t), h);
            var moved = op.Apply(q, owner);
            h.copy_(op.Next);
            q.copy_(moved);
            since++;
            // A QR every k steps, and at the end of the warm-up and of the run, so that exactly Steps steps are averaged.
            bool last = t + 1 == total, warmed = t + 1 == options.WarmUp;
            if (since < every && !last && !warmed) continue;
            var (qNew, r) = torch.linalg.qr(q.view(b, m, s).transpose(1, 2));   // each trajectory's S x m matrix
            q.copy_(qNew.transpose(1, 2).reshape(b * m, s));
            if (t >= options.WarmUp)
            {
                var logs = TensorData.Values(r.diagonal(0, 1, 2).abs().log());
                // A trajectory that ran off to infinity (or a zero Jacobian) gives no exponent; say so, not NaN.
                for (int i = 0; i < logs.Length; i++)
                    if (!double.IsFinite(logs[i]))
                        throw new RnnException("LyapunovNotFinite", RnnErrorKind.InvalidOperation,
                            $"Trajectory {i / m} reached a state where the tangent vectors are {(double.IsNaN(logs[i]) ? "not numbers" : "zero or infinite")} at step {t}: " +
                            "the state diverged (look at it with Get-RnnTrajectory), or the Jacobian there is singular.");
                int done = t - options.WarmUp;   // 0-based index of this step among those averaged
                int segment = (int)Math.Min(segments - 1, (long)done * segments / options.Steps);
                for (int k = 0; k < b; k++)
                    for (int i = 0; i < m; i++)
                    {
                        sums[k, i] += logs[k * m + i];
                        local[k][segment][i] += logs[k * m + i];
                    }
                segmentSteps[segment] += since;
            }
            since = 0;
            progress?.Invoke(t + 1, total);
        }
        // Segments that no QR ended in (fewer blocks than segments) hold nothing: they are left out, not counted as zeros.
        var filled = Enumerable.Range(0, segments).Where(j => segmentSteps[j] > 0).ToArray();
        for (int k = 0; k < b; k++)
        {
            foreach (int j in filled)
                for (int i = 0; i < m; i++) local[k][j][i] /= segmentSteps[j];
            local[k] = filled.Select(j => local[k][j]).ToArray();
        }
        return Summarise(sums, local, b, m, options.Steps);

        Tensor InputsAt(int t) =>
            TensorData.Aligned(Enumerable.Range(0, b).SelectMany(k => inputs[k][t % inputs[k].Count]).ToArray(), b, model.InputSize);
    }

    private static void Check(RnnModel model, IReadOnlyList<double[]> initialStates, IReadOnlyList<IReadOnlyList<double[]>> inputs, LyapunovOptions options, int m)
    {
        if (initialStates.Count == 0)
            throw new RnnException("NoInitialStates", RnnErrorKind.InvalidArgument, "No trajectory to follow: give -InitialState or pipe states.");
        if (inputs.Count != initialStates.Count)
            throw new RnnException("InputCountMismatch", RnnErrorKind.InvalidArgument, $"{initialStates.Count} trajectories but inputs for {inputs.Count}.");
        for (int k = 0; k < initialStates.Count; k++)
        {
            Core.Check.State(model, initialStates[k], $"Initial state {k}");
            if (inputs[k].Count == 0) throw new RnnException("EmptyInputSequence", RnnErrorKind.InvalidArgument, $"Trajectory {k} has no input.");
            for (int t = 0; t < inputs[k].Count; t++)
                Core.Check.Vector(inputs[k][t], model.InputSize, $"Input {t} of trajectory {k}", "InputLengthMismatch");
        }
        if (options.Steps < 1 || options.WarmUp < 0 || options.OrthonormalizeEvery < 1 || options.Segments < 1)
            throw new RnnException("InvalidLyapunovOption", RnnErrorKind.InvalidArgument,
                $"Steps and OrthonormalizeEvery must be at least 1, WarmUp at least 0, Segments at least 1 (not {options.Steps}, {options.OrthonormalizeEvery}, {options.WarmUp}, {options.Segments}).");
        if (m < 1 || m > model.StateSize)
            throw new RnnException("InvalidLyapunovCount", RnnErrorKind.InvalidArgument, $"-Count is 1 to the state size ({model.StateSize}), not {m}.");
    }

    /// <summary>m random orthonormal vectors per trajectory, the same for each, as rows ([B m, S]): QR of a seeded Gaussian matrix.</summary>
    private static Tensor StartingVectors(int b, int s, int m, int seed)
    {
        var random = new Random(seed);
        var g = new double[s * m];
        for (int i = 0; i < g.Length; i++) g[i] = FixedPoints.Gaussian(random);
        var (q, _) = torch.linalg.qr(TensorData.Aligned(g, s, m));
        return q.t().repeat(b, 1).contiguous();
    }

    /// <summary>The exponents (mean over trajectories) and their 95% interval, from the trajectories' spread when there are several, else from the segments'.</summary>
    private static LyapunovResult Summarise(double[,] sums, double[][][] local, int b, int m, int steps)
    {
        var exponents = new double[m];
        var lower = new double[m];
        var upper = new double[m];
        bool byTrajectory = b > 1;
        int segments = local[0].Length;
        for (int i = 0; i < m; i++)
        {
            var samples = byTrajectory
                ? Enumerable.Range(0, b).Select(k => sums[k, i] / steps).ToArray()
                : local[0].Select(seg => seg[i]).ToArray();
            exponents[i] = Enumerable.Range(0, b).Average(k => sums[k, i] / steps);
            double half = samples.Length > 1 ? StudentT975(samples.Length - 1) * StandardDeviation(samples) / Math.Sqrt(samples.Length) : double.NaN;
            lower[i] = exponents[i] - half;
            upper[i] = exponents[i] + half;
        }
        // Largest first. The QR method orders the vectors so in the limit; over a finite run two near-equal exponents can
        // come out of order, and then the vectors are put in order of their means (intervals and local values with them).
        var order = Enumerable.Range(0, m).OrderByDescending(i => exponents[i]).ToArray();
        T[] Sorted<T>(T[] values) => order.Select(i => values[i]).ToArray();
        var sortedLocal = local.Select(trajectory => trajectory.Select(Sorted).ToArray()).ToArray();
        return new LyapunovResult(Sorted(exponents), Sorted(lower), Sorted(upper), byTrajectory ? "trajectories" : "segments", b, steps, sortedLocal);
    }

    private static double StandardDeviation(double[] x)
    {
        double mean = x.Average();
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
    }

    /// <summary>
    /// The 97.5% quantile of Student's t with <paramref name="df"/> degrees of freedom: tabulated to 30, beyond that the
    /// Cornish-Fisher expansion about the normal quantile to its fourth term (within 1e-5 from 30 on).
    /// </summary>
    internal static double StudentT975(int df)
    {
        if (df < 1) return double.NaN;
        if (df <= Table975.Length) return Table975[df - 1];
        const double z = 1.959963984540054;
        double v = df, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
            + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
    }

    /// <summary>t(0.975, df) for df = 1 .. 30 (the standard table, to 9 digits).</summary>
    private static readonly double[] Table975 =
    {
        12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
        2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447,
        2.079613845, 2.073873068, 2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
    };
}

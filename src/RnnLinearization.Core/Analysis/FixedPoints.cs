using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// Fixed and slow points: minima of q(h) = 1/2 |F(h, u) - h|^2 searched from many starts at once, then filtered
/// (q, distance), merged (uniqueness) and linearised.
/// </summary>
public static class FixedPoints
{
    /// <summary>
    /// How many of the points are not fixed points of the model at the input (as points found with another model are
    /// not): max |F(h, u) - h| above 1e-6, or above ten times the |F(h) - h| = sqrt(2 q) the search reported.
    /// </summary>
    public static int NotFixed(RnnModel model, double[] input, IReadOnlyList<double[]> states, IReadOnlyList<double> q)
    {
        var next = Linearization.Step(model, states.Select(_ => input).ToArray(), states);
        return Enumerable.Range(0, states.Count).Count(i =>
            next[i].Select((v, k) => Math.Abs(v - states[i][k])).Max() > Math.Max(1e-6, 10 * Math.Sqrt(2 * q[i])));
    }

    /// <summary>Starts for a search: the given states, or <paramref name="count"/> of them drawn with replacement, plus Gaussian noise.</summary>
    public static double[][] Starts(IReadOnlyList<double[]> states, int? count, double noise, int? seed)
    {
        if (states.Count == 0)
            throw new RnnException("NoInitialStates", RnnErrorKind.InvalidArgument,
                "No states to start from: pipe states (Get-RnnTrajectory, Import-RnnState) or give -InitialState.");
        if (count is < 1)
            throw new RnnException("InvalidCount", RnnErrorKind.InvalidArgument, $"-Count must be at least 1, not {count}.");
        if (!(noise >= 0) || double.IsInfinity(noise))
            throw new RnnException("InvalidNoise", RnnErrorKind.InvalidArgument, $"-Noise is a standard deviation: finite and at least 0, not {noise}.");
        var random = seed is { } s ? new Random(s) : new Random();
        var picked = count is { } n ? Enumerable.Range(0, n).Select(_ => states[random.Next(states.Count)]) : states;
        return picked.Select(state =>
        {
            var start = (double[])state.Clone();
            if (noise > 0)
                for (int i = 0; i < start.Length; i++) start[i] += noise * Gaussian(random);
            return start;
        }).ToArray();
    }

    /// <summary>A standard normal draw (Box-Muller).</summary>
    internal static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Searches from every start, filters and merges the results, and linearises each point found.</summary>
    public static FixedPoint[] Find(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress = null, CancellationToken cancel = default) =>
        FindWithSummary(model, input, starts, options, progress, cancel).Points;

    /// <summary>As <see cref="Find"/>, with the account of every start.</summary>
    public static (FixedPoint[] Points, FixedPointSummary Summary) FindWithSummary(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPointOptions options, Action<FixedPointProgress>? progress = null, CancellationToken cancel = default)
    {
        var searches = Search(model, input, starts, options, progress, cancel);
        var kept = options.All ? searches.Select(s => (s, 1)).ToList() : Filter(searches, starts, options);
        var points = Describe(model, input, kept, options, cancel);
        int probes = 0, found = 0;
        if (options.Probes && !options.All)
            (points, probes, found) = Probe(model, input, starts, points, options, progress, cancel);
        var failed = searches.Where(s => s.Outcome is SearchOutcome.Stalled or SearchOutcome.IterationLimit).ToList();
        var slow = searches.Where(s => s.Outcome == SearchOutcome.Slow).ToList();
        double maxQ = options.MaxQ ?? options.TolQ;
        var summary = new FixedPointSummary(searches.Length, searches.Count(s => s.Outcome == SearchOutcome.Converged), slow.Count,
            searches.Count(s => s.Outcome == SearchOutcome.Stalled), searches.Count(s => s.Outcome == SearchOutcome.IterationLimit), points.Length,
            options.All ? 0 : slow.Count(s => s.Q > maxQ), slow.Count == 0 ? double.NaN : slow.Max(s => s.Q),
            failed.Count == 0 ? double.NaN : failed.Min(s => s.Q), options.All, probes, found);
        return (points, summary);
    }

    /// <summary>Pairs of stable points probed at most (the nearest pairs first): 1,024, as 46 memories have.</summary>
    private const int MaxProbes = 1024;

    /// <summary>
    /// The coverage probes. A saddle between two memories lies on the boundary of their basins, where descent on q from
    /// the starts rarely ends (q's valleys there are shallow) but where the midpoint of the two memories often is: on
    /// flip-flops every saddle is the midpoint of two memories (an edge's, a face's or the cube's centre). So the search
    /// runs again from the midpoint of every pair of stable points found, and keeps what is new. Measured on trained
    /// flip-flops: 25 of the 27 points the toolkits' Adam finds (16 units) and 22 of 24 (64 units) from 512 starts
    /// without probes, all of them with. Points found only by probes have StartCount 0 and FirstStart -1.
    /// </summary>
    private static (FixedPoint[] Points, int Probes, int Found) Probe(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPoint[] points, FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        int probes = 0, found = 0;
        // Corners first. Where memories sit at the corners of a cube (a flip-flop's: one per pattern of bits), a corner
        // that no start reached is A + B - C for three that were: C and two of its nearest memories, a face's fourth
        // corner. Measured on two public flip-flops from trajectory starts: the two corners (1,1,1) and (-1,-1,-1), which
        // the toolkits' Adam finds, and then, by the midpoints below, the saddles beside them. Two rounds, as new corners
        // complete more faces.
        var probed = new List<double[]>();   // completions already tried: a second round tries only the new faces
        for (int round = 0; round < 2; round++)
        {
            int stableBefore = points.Count(p => p.Kind == FixedPointKind.Stable);
            var (more, tried, added) = Completions(model, input, starts, points, probed, options, progress, cancel);
            (points, probes, found) = (more, probes + tried, found + added);
            if (points.Count(p => p.Kind == FixedPointKind.Stable) == stableBefore) break;   // no new corner: no new face
        }
        var (withSaddles, middleProbes, middleFound) = Midpoints(model, input, starts, points, options, progress, cancel);
        return (withSaddles, probes + middleProbes, found + middleFound);
    }

    /// <summary>The face completions A + B - C (C and two of its four nearest stable points) not already a known point.</summary>
    private static (FixedPoint[] Points, int Probes, int Found) Completions(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPoint[] points, List<double[]> probed, FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        var stable = points.Where(p => p.Kind == FixedPointKind.Stable).Select(p => p.State).ToList();
        var candidates = new List<double[]>();
        foreach (var c in stable)
        {
            var near = stable.Where(x => !ReferenceEquals(x, c)).OrderBy(x => VectorMath.Distance(x, c)).Take(4).ToList();
            for (int a = 0; a < near.Count; a++)
                for (int b = a + 1; b < near.Count; b++)
                {
                    var corner = near[a].Select((v, i) => v + near[b][i] - c[i]).ToArray();
                    if (!points.Any(p => Within(p.State, corner, options.UniqueTolerance)) && !candidates.Concat(probed).Any(x => Within(x, corner, options.UniqueTolerance)))
                        candidates.Add(corner);
                }
        }
        var batch = candidates.Take(MaxProbes).ToList();
        probed.AddRange(batch);
        return Fresh(model, input, starts, points, batch, options, progress, cancel);
    }

    /// <summary>The midpoints of pairs of stable points (the nearest pairs first), where saddles sit.</summary>
    private static (FixedPoint[] Points, int Probes, int Found) Midpoints(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPoint[] points, FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        var stable = points.Where(p => p.Kind == FixedPointKind.Stable).ToList();
        var pairs = new List<(double Distance, double[] Middle)>();
        for (int i = 0; i < stable.Count; i++)
            for (int j = i + 1; j < stable.Count; j++)
                pairs.Add((VectorMath.Distance(stable[i].State, stable[j].State), stable[i].State.Zip(stable[j].State, (a, b) => 0.5 * (a + b)).ToArray()));
        if (pairs.Count == 0) return (points, 0, 0);
        var middles = pairs.OrderBy(p => p.Distance).Take(MaxProbes).Select(p => p.Middle).ToList();
        return Fresh(model, input, starts, points, middles, options, progress, cancel);
    }

    /// <summary>Searches from the probes and adds the points they find that are new (StartCount 0, FirstStart -1).</summary>
    private static (FixedPoint[] Points, int Probes, int Found) Fresh(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPoint[] points, List<double[]> probes, FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        if (probes.Count == 0) return (points, 0, 0);
        var searches = Search(model, input, probes, options, progress, cancel);
        var fresh = Filter(searches, starts, options)
            .Where(k => !points.Any(p => Within(p.State, k.Point.State, options.UniqueTolerance)))
            .Select(k => (k.Point with { Start = -1 }, 0)).ToList();
        if (fresh.Count == 0) return (points, probes.Count, 0);
        var all = points.Concat(Describe(model, input, fresh, options, cancel)).OrderBy(f => f.Kind).ThenBy(f => f.FirstStart < 0 ? int.MaxValue : f.FirstStart).ToArray();
        return (all, probes.Count, fresh.Count);
    }

    /// <summary>Runs the search from every start; one result per start, in order, each with its outcome.</summary>
    public static FixedPointSearch[] Search(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress = null, CancellationToken cancel = default)
    {
        Check.Input(model, input);
        for (int i = 0; i < starts.Count; i++)
            Check.State(model, starts[i], $"Initial state {i}");
        if (options.Iterations < 1)
            throw new RnnException("InvalidIterations", RnnErrorKind.InvalidArgument, $"MaxIterations must be at least 1, not {options.Iterations}.");
        if (!(options.TolQ >= 0) || !(options.TolGrad >= 0) || !(options.LearningRate > 0) || !(options.LearningRateFactor is > 0 and < 1))
            throw new RnnException("InvalidFixedPointOption", RnnErrorKind.InvalidArgument,
                "TolQ and TolGrad must be at least 0, LearningRate above 0 and LearningRateFactor between 0 and 1.");
        if (starts.Count == 0) return Array.Empty<FixedPointSearch>();
        TorchRuntime.EnsureLoaded();
        if (options.Method == FixedPointMethod.Adam)
        {
            var (states, iterations, capped) = AdamSearch.Run(model, input, starts, options, progress, cancel);
            return Certify(model, input, states, Enumerable.Repeat(iterations, states.Length).ToArray(), Enumerable.Repeat(capped, states.Length).ToArray(), options, cancel);
        }
        var newton = TrustRegionNewton.Run(model, input, starts, options, progress, cancel);
        return Certify(model, input, newton.States, newton.Iterations, newton.Capped, options, cancel);
    }

    /// <summary>
    /// Each start's outcome where its search ended, from q and |grad q| = |J_r^T r| there (r = F(h) - h, J_r = J - I):
    /// a fixed point, a certified slow point, or a start that stalled or met the iteration limit.
    /// </summary>
    private static FixedPointSearch[] Certify(RnnModel model, double[] input, double[][] states, int[] iterations, bool[] capped,
        FixedPointOptions options, CancellationToken cancel)
    {
        int s = model.StateSize, n = states.Length;
        int chunk = WorkBudget.Items(WorkBudget.JacobianChunkBytes, 8.0 * s * s, 4096);   // the operator may form J
        var result = new FixedPointSearch[n];
        for (int first = 0; first < n; first += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            int m = Math.Min(chunk, n - first);
            using var scope = torch.NewDisposeScope();
            var x = TensorData.FromRows(states.Skip(first).Take(m).ToList(), s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize).expand(m, model.InputSize);
            var op = model.StateJacobianOperator(u, x);
            var r = op.Next - x;
            var g = op.ApplyTransposed(r) - r;
            var q = TensorData.Values(0.5 * r.square().sum(1));
            var gradient = TensorData.Values(g.norm(1));
            for (int k = 0; k < m; k++)
            {
                int i = first + k;
                var outcome = q[k] <= options.TolQ ? SearchOutcome.Converged
                    : gradient[k] <= options.TolGrad * Math.Sqrt(2 * q[k]) ? SearchOutcome.Slow
                    : capped[i] ? SearchOutcome.IterationLimit : SearchOutcome.Stalled;
                result[i] = new FixedPointSearch(i, states[i], q[k], iterations[i], outcome, gradient[k]);
            }
        }
        return result;
    }

    // ---- Filters, merging and the linearisation of what is kept ----

    /// <summary>
    /// Keeps fixed points and certified slow points (never a start that failed), drops q outliers (q above MaxQ) and
    /// distance outliers, then merges points within UniqueTolerance, keeping the lower q.
    /// </summary>
    public static List<(FixedPointSearch Point, int Count)> Filter(IReadOnlyList<FixedPointSearch> searches, IReadOnlyList<double[]> starts,
        FixedPointOptions options)
    {
        double maxQ = options.MaxQ ?? options.TolQ;
        var candidates = searches.Where(p => p.Outcome is SearchOutcome.Converged or SearchOutcome.Slow && p.Q <= maxQ && p.State.All(double.IsFinite)).ToList();
        if (options.OutlierDistance > 0 && starts.Count > 0)
        {
            int s = starts[0].Length;
            var centroid = new double[s];
            foreach (var st in starts)
                for (int i = 0; i < s; i++) centroid[i] += st[i] / starts.Count;
            double spread = starts.Average(st => VectorMath.Distance(st, centroid));
            if (spread > 0)
                candidates = candidates.Where(p => VectorMath.Distance(p.State, centroid) / spread < options.OutlierDistance).ToList();
        }
        var kept = new List<(FixedPointSearch Point, int Count)>();
        foreach (var p in candidates.OrderBy(p => p.Q).ThenBy(p => p.Start))
        {
            int match = kept.FindIndex(k => Within(k.Point.State, p.State, options.UniqueTolerance));
            if (match < 0) kept.Add((p, 1));
            else kept[match] = (kept[match].Point with { Start = Math.Min(kept[match].Point.Start, p.Start) }, kept[match].Count + 1);
        }
        return kept;
    }

    /// <summary>The uniqueness rule (the toolkits'): every coordinate closer than the tolerance (Find-RnnFixedPoint's and Join-RnnResult -Unique's).</summary>
    internal static bool Within(double[] a, double[] b, double tolerance)
    {
        for (int i = 0; i < a.Length; i++)
            if (!(Math.Abs(a[i] - b[i]) < tolerance)) return false;
        return true;
    }


    /// <summary>Spectra (in bounded batches), kinds, time constants and line attractor scores; ordered by kind, then by first start.</summary>
    private static FixedPoint[] Describe(RnnModel model, double[] input, List<(FixedPointSearch Point, int Count)> kept, FixedPointOptions options,
        CancellationToken cancel)
    {
        // Batches of bounded cost, so cancellation is checked often.
        int s = model.StateSize, batch = WorkBudget.Items(WorkBudget.SpectrumBatchFlops, WorkBudget.EigenFlops(s), 1024);
        var result = new List<FixedPoint>(kept.Count);
        for (int first = 0; first < kept.Count; first += batch)
        {
            cancel.ThrowIfCancellationRequested();
            var part = kept.Skip(first).Take(batch).ToList();
            var states = part.Select(k => k.Point.State).ToArray();
            var inputs = Enumerable.Repeat(input, part.Count).ToArray();
            var spectra = Spectrum.FromModel(model, inputs, states, EigenSort.Magnitude, eigenvectors: false);
            // The unstable modes where some mode grows, by inverse iteration on the Jacobian (a saddle has few).
            var unstable = new double[part.Count][][];
            var growing = Enumerable.Range(0, part.Count).Where(k => spectra[k].UnstableCount > 0).ToArray();
            var jacobians = growing.Length == 0 ? null : Linearization.Jacobians(model, growing.Select(k => input).ToArray(), growing.Select(k => states[k]).ToArray());
            for (int k = 0; k < part.Count; k++) unstable[k] = Array.Empty<double[]>();
            for (int g = 0; g < growing.Length; g++)
                unstable[growing[g]] = Spectrum.UnstableBasis(jacobians![g].StateJacobian, spectra[growing[g]].Eigenvalues);
            var next = Linearization.Step(model, inputs, states);
            for (int k = 0; k < part.Count; k++)
            {
                var (p, count) = part[k];
                var e = spectra[k];
                var kind = p.Outcome == SearchOutcome.Slow ? FixedPointKind.Slow
                    : p.Outcome != SearchOutcome.Converged ? FixedPointKind.Failed
                    : e.UnstableCount == 0 ? FixedPointKind.Stable
                    : e.UnstableCount == e.Eigenvalues.Length ? FixedPointKind.Unstable : FixedPointKind.Saddle;
                result.Add(new FixedPoint(p.State, next[k], p.Q, p.Iterations, count, p.Start, kind, e,
                    e.Eigenvalues.Select(Spectrum.TimeConstant).ToArray(), LineAttractorScore(e.Eigenvalues), unstable[k], p.Outcome, p.Gradient));
            }
        }
        // Every start's result (-All) in the order of the starts, so that shards of the starts join in order.
        return options.All ? result.OrderBy(f => f.FirstStart).ToArray() : result.OrderBy(f => f.Kind).ThenBy(f => f.FirstStart).ToArray();
    }

    /// <summary>
    /// log2(|1 - lambda_2| / |1 - lambda_1|) for the two slowest modes (smallest |1 - lambda|; time constants
    /// tau / |1 - lambda|): large when one mode is much slower than the rest, as along a line attractor. NaN for one unit.
    /// </summary>
    public static double LineAttractorScore(IReadOnlyList<System.Numerics.Complex> eigenvalues)
    {
        if (eigenvalues.Count < 2) return double.NaN;
        var gaps = eigenvalues.Select(l => (1 - l).Magnitude).OrderBy(g => g).ToArray();
        return Math.Log2(gaps[1] / gaps[0]);
    }
}

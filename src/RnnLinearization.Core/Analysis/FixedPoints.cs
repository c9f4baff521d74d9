using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

public enum FixedPointMethod
{
    /// <summary>Newton steps on r(h) = F(h, u) - h with a backtracking line search, Levenberg-Marquardt where Newton cannot decrease q.</summary>
    Newton,
    /// <summary>The toolkits' procedure: Adam on the mean of q over all starts, the learning rate cut on plateaus.</summary>
    Adam,
}

/// <summary>Stable: no mode grows (|lambda| &lt;= 1); Unstable: every mode grows; Saddle: some do; Slow: q above the fixed-point tolerance.</summary>
public enum FixedPointKind { Stable, Saddle, Unstable, Slow }

/// <summary>How fixed points are searched for and filtered. Names follow Golub and Sussillo's FixedPointFinder where they have one.</summary>
public sealed class FixedPointOptions
{
    public FixedPointMethod Method { get; init; } = FixedPointMethod.Newton;

    /// <summary>tol_q: a point with q = 1/2 |F(h) - h|^2 at or below this is a fixed point; above it, a slow point.</summary>
    public double TolQ { get; init; } = 1e-12;

    /// <summary>tol_dq (Adam): the search ends when every start has q &lt; TolQ or |dq| &lt; TolDq times the learning rate.</summary>
    public double TolDq { get; init; } = 1e-20;

    /// <summary>max_iters; default 100 for Newton, 5,000 for Adam.</summary>
    public int? MaxIterations { get; init; }

    /// <summary>lr_init (Adam).</summary>
    public double LearningRate { get; init; } = 1.0;

    /// <summary>The plateau schedule (Adam), as PyTorch's ReduceLROnPlateau in the toolkit: factor, patience, cooldown.</summary>
    public double LearningRateFactor { get; init; } = 0.95;
    public int LearningRatePatience { get; init; } = 2;
    public int LearningRateCooldown { get; init; }

    /// <summary>Points with q above this are dropped (q outliers); default TolQ, so only fixed points are kept. Larger keeps slow points.</summary>
    public double? MaxQ { get; init; }

    /// <summary>tol_unique: points closer than this in every coordinate are one point (the one with the lower q is kept).</summary>
    public double UniqueTolerance { get; init; } = 1e-3;

    /// <summary>outlier_distance_scale: points farther from the starts' centroid than this many times the starts' mean distance to it are dropped; 0 keeps all.</summary>
    public double OutlierDistance { get; init; } = 10;

    /// <summary>Every start's result, unfiltered and not merged.</summary>
    public bool All { get; init; }

    public int Iterations => MaxIterations ?? (Method == FixedPointMethod.Adam ? 5000 : 100);
}

/// <summary>Where one start's search ended.</summary>
public sealed record FixedPointSearch(int Start, double[] State, double Q, int Iterations);

/// <summary>
/// A fixed (or slow) point with its linearisation. Eigenvalues are sorted by magnitude. UnstableModes: real unit
/// vectors spanning the unstable subspace (see <see cref="Spectrum.UnstableBasis"/>); empty at a stable point.
/// </summary>
public sealed record FixedPoint(double[] State, double[] NextState, double Q, int Iterations, int StartCount, int FirstStart,
    FixedPointKind Kind, EigenResult Spectrum, double[] TimeConstants, double LineAttractorScore, double[][] UnstableModes);

/// <summary>How a search is going: for progress bars.</summary>
public readonly record struct FixedPointProgress(int Iteration, int Active, int Total, double MaxQ);

/// <summary>
/// Fixed and slow points: minima of q(h) = 1/2 |F(h, u) - h|^2 searched from many starts at once, then filtered
/// (q, distance), merged (uniqueness) and linearised.
/// </summary>
public static class FixedPoints
{
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

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Searches from every start, filters and merges the results, and linearises each point found.</summary>
    public static FixedPoint[] Find(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress = null, CancellationToken cancel = default)
    {
        var searches = Search(model, input, starts, options, progress, cancel);
        var kept = options.All ? searches.Select(s => (s, 1)).ToList() : Filter(searches, starts, options);
        return Describe(model, input, kept, options, cancel);
    }

    /// <summary>Runs the search from every start; one result per start, in order.</summary>
    public static FixedPointSearch[] Search(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress = null, CancellationToken cancel = default)
    {
        Check.Input(model, input);
        for (int i = 0; i < starts.Count; i++)
            Check.Vector(starts[i], model.StateSize, $"Initial state {i}", "StateLengthMismatch");
        if (options.Iterations < 1)
            throw new RnnException("InvalidIterations", RnnErrorKind.InvalidArgument, $"MaxIterations must be at least 1, not {options.Iterations}.");
        if (!(options.TolQ >= 0) || !(options.LearningRate > 0) || !(options.LearningRateFactor is > 0 and < 1))
            throw new RnnException("InvalidFixedPointOption", RnnErrorKind.InvalidArgument,
                "TolQ must be at least 0, LearningRate above 0 and LearningRateFactor between 0 and 1.");
        if (starts.Count == 0) return Array.Empty<FixedPointSearch>();
        TorchRuntime.EnsureLoaded();
        return options.Method == FixedPointMethod.Adam
            ? Adam(model, input, starts, options, progress, cancel)
            : Newton(model, input, starts, options, progress, cancel);
    }

    // ---- Newton in a trust region (Powell's dogleg) ----

    /// <summary>
    /// Each start on its own, in a trust region of radius Delta (Powell's dogleg): with r = F(h) - h, J_r = J - I and
    /// g = J_r^T r, the step is the Newton step -J_r^-1 r when it fits in the region, else the steepest-descent
    /// (Cauchy) step cut to the region, or the point on the path between them at distance Delta. A step is taken only
    /// when q falls; Delta shrinks when the quadratic model of q predicts badly and grows when it predicts well. Small
    /// early steps follow q downhill (so a start ends where gradient descent would, as in the toolkits); near a root the
    /// steps are Newton's and converge quadratically; at a slow point (a local minimum of q above zero) the Cauchy steps
    /// settle into it. Newton steps come from <see cref="NewtonSolver"/> (GMRES preconditioned by the start's own last
    /// LU, a fresh LU only where that does not converge), none while the region is smaller than the Cauchy step;
    /// products with J come from the model's <see cref="JacobianOperator"/>, which need not form J; no J^T J.
    /// A start stops when q reaches its rounding floor, when no step lowers q, or after MaxIterations. Starts go in
    /// chunks of bounded cost (at worst an LU of S^3 each), so cancellation is checked often at any size.
    /// </summary>
    private static FixedPointSearch[] Newton(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        int s = model.StateSize, total = starts.Count;
        int chunk = (int)Math.Clamp(1e9 / ((double)s * s * s + 1), 1, 4096);
        var result = new FixedPointSearch[total];
        int slots = Math.Min(chunk, total);
        MemoryGuard.Require(MemoryGuard.Matrices(slots, s) + NewtonSolver.Bytes(s, slots), $"Newton steps from {slots} start(s) of {s} values");
        var solver = new NewtonSolver(s, slots);
        for (int first = 0; first < total; first += chunk)
        {
            int n = Math.Min(chunk, total - first);
            solver.Forget();
            using var scope = torch.NewDisposeScope();
            var x = TensorData.FromRows(starts.Skip(first).Take(n).ToList(), s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize);
            var iterations = new int[n];
            var radius = starts.Skip(first).Take(n).Select(h => InitialRadius * (1 + Math.Sqrt(h.Sum(v => v * v)))).ToArray();
            var active = Enumerable.Range(0, n).ToArray();
            for (int iteration = 1; iteration <= options.Iterations && active.Length > 0; iteration++)
            {
                cancel.ThrowIfCancellationRequested();
                using var inner = torch.NewDisposeScope();
                var at = torch.tensor(active.Select(i => (long)i).ToArray());
                var xa = x.index_select(0, at);
                var ua = u.expand(active.Length, model.InputSize);
                var jacobian = model.StateJacobianOperator(ua, xa);
                var rows = active.Select(i => radius[i]).ToArray();
                var (newX, q, moved) = DoglegStep(model, ua, xa, jacobian, rows, solver, active);
                x.index_copy_(0, at, newX);
                var still = new List<int>();
                for (int k = 0; k < active.Length; k++)
                {
                    iterations[active[k]] = iteration;
                    radius[active[k]] = rows[k];
                    if (moved[k]) still.Add(active[k]);
                }
                active = still.ToArray();
                progress?.Invoke(new FixedPointProgress(iteration, active.Length + total - first - n, total, q.DefaultIfEmpty(0).Max()));
            }
            var u1 = u.expand(n, model.InputSize);
            var finalQ = TensorData.Values(0.5 * (model.Step(u1, x) - x).square().sum(1)).ToArray();
            var states = TensorData.ToRows(x);
            for (int k = 0; k < n; k++)
                result[first + k] = new FixedPointSearch(first + k, states[k], finalQ[k], iterations[k]);
        }
        return result;
    }

    /// <summary>
    /// The first trust radius, relative to 1 + |h| of the start: the first steps go downhill on q, so a start ends where
    /// descent takes it. Measured on the flip-flop (1,024 starts): 27 points, as the toolkits' Adam; radii of 10 and more
    /// (Newton's full steps) found 23.
    /// </summary>
    private const double InitialRadius = 0.1;

    /// <summary>
    /// One dogleg iteration for a batch, J_r = J - I and r = F(h) - h from the Jacobian operator: the new states, their q,
    /// and whether each moved (took a step that lowered q by more than rounding and is still above q's rounding floor);
    /// the radii are updated in place. Every step is a g + b n, with g = J_r^T r and n the Newton step (J_r n = -r + e,
    /// e as small as the solver leaves it), so the quadratic model's prediction, |r + J_r p|^2 = |(1 - b) r + a J_r g +
    /// b e|^2, comes from a few dot products per state: the tries cost one step of the network each, and the choice of
    /// step is plain arithmetic here. <paramref name="owners"/>: each batch row's start in the chunk (its solver slot).
    /// </summary>
    private static (Tensor X, double[] Q, bool[] Moved) DoglegStep(RnnModel model, Tensor u, Tensor x, JacobianOperator jacobian,
        double[] radius, NewtonSolver solver, int[] owners)
    {
        int batch = (int)x.shape[0];
        var r = jacobian.Next - x;
        var g = jacobian.ApplyTransposed(r) - r;                                            // J_r^T r, the gradient of q
        var jg = jacobian.Apply(g) - g;
        Tensor Dot(Tensor a, Tensor b) => (a * b).sum(1);
        // Per state: |g|^2, |J_r g|^2, |n|^2, g.n, |r|^2, r.J_r g, n usable, max |h|, and with e = J_r n + r (n's error,
        // as the solver leaves it) r.e, J_r g.e, |e|^2: read in two reads, n's after its solve.
        const int fields = 11;
        var d = new double[fields * batch];
        double V(int k, int field) => d[fields * k + field];
        void Read(IReadOnlyList<int> rows, params (int Field, Tensor Column)[] columns)
        {
            var values = TensorData.Values(torch.stack(columns.Select(c => c.Column).ToArray(), 1));
            for (int k = 0; k < rows.Count; k++)
                for (int c = 0; c < columns.Length; c++) d[fields * rows[k] + columns[c].Field] = values[k * columns.Length + c];
        }
        Read(Enumerable.Range(0, batch).ToArray(), (0, Dot(g, g)), (1, Dot(jg, jg)), (4, Dot(r, r)), (5, Dot(r, jg)), (7, x.abs().amax(new long[] { 1 })));
        // The Newton step only where it can be taken: when the Cauchy point lies outside the region, so does the Newton
        // step (for the model's J_r^T J_r, |Cauchy| <= |Newton|), and every try is a steepest-descent step.
        var need = Enumerable.Range(0, batch).Where(k => !(V(k, 0) > 0 && V(k, 1) > 0) || Math.Pow(V(k, 0), 1.5) / V(k, 1) < radius[k]).ToArray();
        var newton = torch.zeros_like(g);
        var error = torch.zeros_like(g);
        if (need.Length > 0)
        {
            var rows = torch.tensor(need.Select(k => (long)k).ToArray());
            var (n, e, usable) = solver.Solve(r, jacobian, need, need.Select(k => owners[k]).ToArray());
            newton.index_copy_(0, rows, n);
            error.index_copy_(0, rows, e);
            var gr = g.index_select(0, rows);
            var rr = r.index_select(0, rows);
            var jgr = jg.index_select(0, rows);
            Read(need, (2, Dot(n, n)), (3, Dot(gr, n)), (6, usable), (8, Dot(rr, e)), (9, Dot(jgr, e)), (10, Dot(e, e)));
        }

        var q = new double[batch];
        var bestA = new double[batch];
        var bestB = new double[batch];
        var pending = new bool[batch];
        for (int k = 0; k < batch; k++)
        {
            q[k] = 0.5 * V(k, 4);
            pending[k] = (V(k, 0) > 0 && V(k, 1) > 0) || V(k, 6) != 0;   // g = 0 and no Newton step: nothing to try
        }
        var newQ = (double[])q.Clone();
        var a = new double[batch];
        var b = new double[batch];
        var norm = new double[batch];
        var predicted = new double[batch];
        for (int attempt = 0; attempt < 12 && pending.Any(p => p); attempt++)
        {
            for (int k = 0; k < batch; k++)
            {
                a[k] = b[k] = 0;
                if (!pending[k]) continue;
                (a[k], b[k]) = Dogleg(V(k, 0), V(k, 1), V(k, 2), V(k, 3), V(k, 6) != 0, radius[k]);
                norm[k] = Math.Sqrt(Math.Max(0, a[k] * a[k] * V(k, 0) + 2 * a[k] * b[k] * V(k, 3) + b[k] * b[k] * V(k, 2)));
                // The model's q at a g + b n: 1/2 |r + a J_r g + b J_r n|^2 = 1/2 |c r + a J_r g + b e|^2 with c = 1 - b.
                double c = 1 - b[k];
                predicted[k] = q[k] - 0.5 * (c * c * V(k, 4) + a[k] * a[k] * V(k, 1) + b[k] * b[k] * V(k, 10)
                    + 2 * (a[k] * c * V(k, 5) + b[k] * c * V(k, 8) + a[k] * b[k] * V(k, 9)));
            }
            var trial = x + torch.tensor(a).unsqueeze(1) * g + torch.tensor(b).unsqueeze(1) * newton;
            var qt = TensorData.Values(0.5 * (model.Step(u, trial) - trial).square().sum(1));
            for (int k = 0; k < batch; k++)
            {
                if (!pending[k]) continue;
                bool ok = double.IsFinite(qt[k]) && qt[k] < q[k];
                double rho = (q[k] - qt[k]) / predicted[k];
                // The radius: a quarter of the step when the model predicted badly (or the step failed), doubled when it predicted well at the edge.
                if (!ok || !(rho >= 0.25)) radius[k] = 0.25 * norm[k];
                else if (rho > 0.75 && norm[k] >= 0.99 * radius[k]) radius[k] *= 2;
                if (!ok) continue;
                (bestA[k], bestB[k], newQ[k], pending[k]) = (a[k], b[k], qt[k], false);
            }
        }
        var newX = x + torch.tensor(bestA).unsqueeze(1) * g + torch.tensor(bestB).unsqueeze(1) * newton;
        var moved = new bool[batch];
        for (int k = 0; k < batch; k++)
        {
            // Below q's rounding floor (residuals of a few ulps of the state's scale) no step means anything.
            double floor = 0.5 * x.shape[1] * Math.Pow(4e-16 * (1 + V(k, 7)), 2);
            moved[k] = q[k] - newQ[k] > 1e-15 * q[k] && newQ[k] > floor;
        }
        return (newX, newQ, moved);
    }

    /// <summary>
    /// The dogleg step a g + b n in a region of radius <paramref name="radius"/>, from |g|^2, |J_r g|^2, |n|^2 and g.n: the
    /// Newton step n when it fits; else, from the Cauchy point c g (c = -|g|^2 / |J_r g|^2, the model's minimum along -g),
    /// the point towards n at distance radius; or along -g to the edge when the Cauchy point is outside (or there is no n).
    /// </summary>
    private static (double A, double B) Dogleg(double gg, double jgjg, double nn, double gn, bool newtonOk, double radius)
    {
        if (newtonOk && Math.Sqrt(nn) <= radius) return (0, 1);
        bool cauchyOk = gg > 0 && jgjg > 0;
        double c = cauchyOk ? -gg / jgjg : 0;
        double cauchyNorm = Math.Abs(c) * Math.Sqrt(gg);
        if (!cauchyOk || cauchyNorm >= radius || !newtonOk)
            return gg > 0 ? (cauchyOk && cauchyNorm < radius ? c : -radius / Math.Sqrt(gg), 0) : (0, 0);
        // |c g + t (n - c g)| = radius: a quadratic in t, t in [0, 1].
        double dd = nn - 2 * c * gn + c * c * gg, ud = c * gn - c * c * gg, uu = c * c * gg;
        double t = dd > 0 ? (-ud + Math.Sqrt(Math.Max(0, ud * ud - dd * (uu - radius * radius)))) / dd : 0;
        t = Math.Clamp(t, 0, 1);
        return ((1 - t) * c, t);
    }

    // ---- Adam, as the toolkits run it ----

    /// <summary>
    /// Golub and Sussillo's joint optimisation: Adam (betas 0.9, 0.999, eps 1e-8) on the mean of q over all starts,
    /// the learning rate multiplied by the factor when the mean q has not improved by a relative 1e-4 for more than
    /// patience iterations (PyTorch's ReduceLROnPlateau); stops when every start has q &lt; tol_q or
    /// |dq| &lt; tol_dq times the learning rate, or after max_iters.
    /// </summary>
    private static FixedPointSearch[] Adam(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        int s = model.StateSize, n = starts.Count;
        using var scope = torch.NewDisposeScope();
        var x = TensorData.FromRows(starts, s);
        var u = TensorData.FromRows(new[] { input }, model.InputSize).expand(n, model.InputSize);
        var m = torch.zeros_like(x);
        var v = torch.zeros_like(x);
        double lr = options.LearningRate, best = double.PositiveInfinity;
        int bad = 0, cooldown = 0, iteration = 1;
        double[]? previous = null;
        for (; ; iteration++)
        {
            cancel.ThrowIfCancellationRequested();
            using var inner = torch.NewDisposeScope();
            double[] q;
            double mean;
            Tensor grad;
            using (torch.enable_grad())
            {
                var xg = x.detach().requires_grad_(true);
                var qb = 0.5 * (xg - model.DifferentiableStep(u, xg)).square().sum(1);
                var loss = qb.mean();
                grad = torch.autograd.grad(new[] { loss }, new[] { xg })[0];
                q = TensorData.Values(qb.detach()).ToArray();
                mean = loss.item<double>();
            }
            m.mul_(beta1).add_(grad * (1 - beta1));
            v.mul_(beta2).add_(grad.square() * (1 - beta2));
            double correction1 = 1 - Math.Pow(beta1, iteration), correction2 = 1 - Math.Pow(beta2, iteration);
            x.sub_(lr / correction1 * m / (v.sqrt() / Math.Sqrt(correction2) + eps));

            if (mean < best * (1 - 1e-4)) { best = mean; bad = 0; }
            else bad++;
            if (cooldown > 0) { cooldown--; bad = 0; }
            if (bad > options.LearningRatePatience)
            {
                double reduced = lr * options.LearningRateFactor;
                if (lr - reduced > 1e-8) { lr = reduced; cooldown = options.LearningRateCooldown; }
                bad = 0;
            }

            if (iteration % 50 == 0) progress?.Invoke(new FixedPointProgress(iteration, q.Count(v => v >= options.TolQ), n, q.Max()));
            if (previous is not null && q.Select((qb, b) => Math.Abs(qb - previous[b]) < options.TolDq * lr || qb < options.TolQ).All(done => done)) break;
            if (iteration + 1 > options.Iterations) break;
            previous = q;
        }
        var finalQ = TensorData.Values(0.5 * (model.Step(u, x) - x).square().sum(1)).ToArray();
        var states = TensorData.ToRows(x);
        return Enumerable.Range(0, n).Select(b => new FixedPointSearch(b, states[b], finalQ[b], iteration)).ToArray();
    }

    // ---- Filters, merging and the linearisation of what is kept ----

    /// <summary>Drops q outliers (q above MaxQ) and distance outliers, then merges points within UniqueTolerance, keeping the lower q.</summary>
    public static List<(FixedPointSearch Point, int Count)> Filter(IReadOnlyList<FixedPointSearch> searches, IReadOnlyList<double[]> starts,
        FixedPointOptions options)
    {
        double maxQ = options.MaxQ ?? options.TolQ;
        var candidates = searches.Where(p => p.Q <= maxQ && p.State.All(double.IsFinite)).ToList();
        if (options.OutlierDistance > 0 && starts.Count > 0)
        {
            int s = starts[0].Length;
            var centroid = new double[s];
            foreach (var st in starts)
                for (int i = 0; i < s; i++) centroid[i] += st[i] / starts.Count;
            double spread = starts.Average(st => Distance(st, centroid));
            if (spread > 0)
                candidates = candidates.Where(p => Distance(p.State, centroid) / spread < options.OutlierDistance).ToList();
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

    /// <summary>Every coordinate closer than the tolerance (the toolkits' uniqueness test).</summary>
    private static bool Within(double[] a, double[] b, double tolerance)
    {
        for (int i = 0; i < a.Length; i++)
            if (!(Math.Abs(a[i] - b[i]) < tolerance)) return false;
        return true;
    }

    private static double Distance(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }

    /// <summary>Spectra (in bounded batches), kinds, time constants and line attractor scores; ordered by kind, then by first start.</summary>
    private static FixedPoint[] Describe(RnnModel model, double[] input, List<(FixedPointSearch Point, int Count)> kept, FixedPointOptions options,
        CancellationToken cancel)
    {
        // Batches of bounded cost (an eigendecomposition is about 10 S^3 flops), so cancellation is checked often.
        int s = model.StateSize, batch = (int)Math.Clamp(2e9 / (10.0 * s * s * s), 1, 1024);
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
                var kind = p.Q > options.TolQ ? FixedPointKind.Slow
                    : e.UnstableCount == 0 ? FixedPointKind.Stable
                    : e.UnstableCount == e.Eigenvalues.Length ? FixedPointKind.Unstable : FixedPointKind.Saddle;
                result.Add(new FixedPoint(p.State, next[k], p.Q, p.Iterations, count, p.Start, kind, e,
                    e.Eigenvalues.Select(Spectrum.TimeConstant).ToArray(), LineAttractorScore(e.Eigenvalues), unstable[k]));
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

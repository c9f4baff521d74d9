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

/// <summary>A fixed (or slow) point with its linearisation. Eigenvalues are sorted by magnitude.</summary>
public sealed record FixedPoint(double[] State, double[] NextState, double Q, int Iterations, int StartCount, int FirstStart,
    FixedPointKind Kind, EigenResult Spectrum, double[] TimeConstants, double LineAttractorScore);

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
    /// settle into it. One LU per iteration, no J^T J. A start stops when q reaches its rounding floor, when no step
    /// lowers q, or after MaxIterations. Starts go in chunks of bounded cost (LUs of S^3), so cancellation is checked
    /// often at any size.
    /// </summary>
    private static FixedPointSearch[] Newton(RnnModel model, double[] input, IReadOnlyList<double[]> starts, FixedPointOptions options,
        Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        int s = model.StateSize, total = starts.Count;
        int chunk = (int)Math.Clamp(4e8 / ((double)s * s * s + 1), 1, 4096);
        var result = new FixedPointSearch[total];
        for (int first = 0; first < total; first += chunk)
        {
            int n = Math.Min(chunk, total - first);
            using var scope = torch.NewDisposeScope();
            var x = TensorData.FromRows(starts.Skip(first).Take(n).ToList(), s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize);
            var eye = torch.eye(s, dtype: ScalarType.Float64).unsqueeze(0);
            var iterations = new int[n];
            var radius = InitialRadius * (1 + x.square().sum(1).sqrt());
            var active = Enumerable.Range(0, n).ToArray();
            for (int iteration = 1; iteration <= options.Iterations && active.Length > 0; iteration++)
            {
                cancel.ThrowIfCancellationRequested();
                using var inner = torch.NewDisposeScope();
                var at = torch.tensor(active.Select(i => (long)i).ToArray());
                var xa = x.index_select(0, at);
                var ua = u.expand(active.Length, model.InputSize);
                var (next, jacobian, _) = model.Linearize(ua, xa);
                var r = next - xa;
                var (newX, newQ, moved, newRadius) = DoglegStep(model, ua, xa, r, jacobian - eye, radius.index_select(0, at));

                x.index_copy_(0, at, newX);
                radius.index_copy_(0, at, newRadius);
                // One read per iteration: [moved, q, q's floor] per start.
                var status = TensorData.Values(torch.stack(new[] { moved.to_type(ScalarType.Float64), newQ, Floor(newX) }, 1));
                var still = new List<int>();
                double largest = 0;
                for (int k = 0; k < active.Length; k++)
                {
                    iterations[active[k]] = iteration;
                    double q = status[3 * k + 1];
                    largest = Math.Max(largest, q);
                    if (status[3 * k] != 0 && q > status[3 * k + 2]) still.Add(active[k]);
                }
                active = still.ToArray();
                progress?.Invoke(new FixedPointProgress(iteration, active.Length + total - first - n, total, largest));
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

    /// <summary>q's rounding floor at states [B, S]: residuals of a few ulps of the state's scale, where no step means anything.</summary>
    private static Tensor Floor(Tensor x) => 0.5 * x.shape[1] * (4e-16 * (1 + x.abs().amax(new long[] { 1 }))).square();

    /// <summary>One dogleg iteration for a batch: new states, their q, whether each moved, and the radii for the next.</summary>
    private static (Tensor X, Tensor Q, Tensor Moved, Tensor Radius) DoglegStep(RnnModel model, Tensor u, Tensor x, Tensor r, Tensor jr, Tensor radius)
    {
        var q = 0.5 * r.square().sum(1);
        var g = jr.transpose(1, 2).bmm(r.unsqueeze(2)).squeeze(2);                         // gradient of q
        var jg = jr.bmm(g.unsqueeze(2)).squeeze(2);
        var gg = g.square().sum(1);
        // The Cauchy point: the minimum of the quadratic model along -g.
        var cauchy = -(gg / jg.square().sum(1)).unsqueeze(1) * g;
        var (newton, info) = torch.linalg.solve_ex(jr, -r.unsqueeze(2));

        newton = newton.squeeze(2);
        var usable = info.eq(0).logical_and(newton.isfinite().all(1));
        newton = torch.where(usable.unsqueeze(1), newton, torch.zeros_like(newton));
        double[] Norms(Tensor v) => TensorData.Values(v.square().sum(1).sqrt()).ToArray();
        var newtonNorm = torch.tensor(Norms(newton));
        var cauchyNorm = torch.tensor(Norms(cauchy));
        var cauchyOk = gg.gt(0).logical_and(cauchy.isfinite().all(1));

        var newX = x.clone();
        var newQ = q.clone();
        var accepted = torch.zeros(q.shape[0], dtype: ScalarType.Bool);
        var live = cauchyOk.logical_or(usable);                                            // g = 0 and no Newton step: nothing to do
        for (int k = 0; k < 12; k++)
        {
            var pending = live.logical_and(accepted.logical_not());
            if (!pending.any().item<bool>()) break;
            var step = Dogleg(newton, newtonNorm, usable, cauchy, cauchyNorm, cauchyOk, g, radius);
            var stepNorm = step.square().sum(1).sqrt();
            var trial = x + step;
            var qt = 0.5 * (model.Step(u, trial) - trial).square().sum(1);
            var predicted = q - 0.5 * (r + jr.bmm(step.unsqueeze(2)).squeeze(2)).square().sum(1);
            var rho = (q - qt) / predicted;
            var ok = pending.logical_and(qt.isfinite()).logical_and(qt.lt(q));
            newX = torch.where(ok.unsqueeze(1), trial, newX);
            newQ = torch.where(ok, qt, newQ);
            // The radius: a quarter of the step when the model predicted badly (or the step failed), doubled when it predicted well at the edge.
            var grow = ok.logical_and(rho.gt(0.75)).logical_and(stepNorm.ge(0.99 * radius));
            var shrink = pending.logical_and(ok.logical_not().logical_or(rho.lt(0.25)));
            radius = torch.where(grow, 2 * radius, torch.where(shrink, 0.25 * stepNorm, radius));
            accepted = accepted.logical_or(ok);
        }
        var moved = accepted.logical_and((q - newQ).gt(1e-15 * q));
        return (newX, newQ, moved, radius);
    }

    /// <summary>The dogleg step in a region of the given radius, per row.</summary>
    private static Tensor Dogleg(Tensor newton, Tensor newtonNorm, Tensor usable, Tensor cauchy, Tensor cauchyNorm, Tensor cauchyOk, Tensor g, Tensor radius)
    {
        // Along -g to the edge, when even the Cauchy point lies outside (or no Newton step exists).
        var gNorm = g.square().sum(1).sqrt();
        var steepest = torch.where(cauchyNorm.le(radius).logical_and(cauchyOk).unsqueeze(1), cauchy, -(radius / gNorm).unsqueeze(1) * g);
        // Between the Cauchy point and the Newton step, at distance radius: |c + t (n - c)| = radius, t in [0, 1].
        var d = newton - cauchy;
        var a = d.square().sum(1);
        var b = 2 * (cauchy * d).sum(1);
        var c = cauchyNorm.square() - radius.square();
        var t = ((-b + (b.square() - 4 * a * c).clamp_min(0).sqrt()) / (2 * a)).clamp(0, 1);
        var between = cauchy + t.unsqueeze(1) * d;
        var bent = torch.where(cauchyNorm.ge(radius).logical_or(cauchyOk.logical_not()).unsqueeze(1), steepest, between);
        var step = torch.where(usable.logical_and(newtonNorm.le(radius)).unsqueeze(1), newton, torch.where(usable.unsqueeze(1), bent, steepest));
        return torch.where(step.isfinite().all(1).unsqueeze(1), step, torch.zeros_like(step));
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
        int s = model.StateSize, batch = (int)Math.Clamp((64L << 20) / (8L * s * s), 1, 1024);
        var result = new List<FixedPoint>(kept.Count);
        for (int first = 0; first < kept.Count; first += batch)
        {
            cancel.ThrowIfCancellationRequested();
            var part = kept.Skip(first).Take(batch).ToList();
            var states = part.Select(k => k.Point.State).ToArray();
            var inputs = Enumerable.Repeat(input, part.Count).ToArray();
            var spectra = Spectrum.FromModel(model, inputs, states, EigenSort.Magnitude, eigenvectors: false);
            var next = Linearization.Step(model, inputs, states);
            for (int k = 0; k < part.Count; k++)
            {
                var (p, count) = part[k];
                var e = spectra[k];
                var kind = p.Q > options.TolQ ? FixedPointKind.Slow
                    : e.UnstableCount == 0 ? FixedPointKind.Stable
                    : e.UnstableCount == e.Eigenvalues.Length ? FixedPointKind.Unstable : FixedPointKind.Saddle;
                result.Add(new FixedPoint(p.State, next[k], p.Q, p.Iterations, count, p.Start, kind, e,
                    e.Eigenvalues.Select(Spectrum.TimeConstant).ToArray(), LineAttractorScore(e.Eigenvalues)));
            }
        }
        return result.OrderBy(f => f.Kind).ThenBy(f => f.FirstStart).ToArray();
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

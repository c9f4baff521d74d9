using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// Each start on its own, in a trust region of radius Delta (Powell's dogleg): with r = F(h) - h, J_r = J - I and
/// g = J_r^T r, the step is the Newton step -J_r^-1 r when it fits in the region, else the steepest-descent
/// (Cauchy) step cut to the region, or the point on the path between them at distance Delta. A step is taken only
/// when q falls; Delta shrinks when the quadratic model of q predicts badly and grows when it predicts well. Small
/// early steps follow q downhill (so a start ends where gradient descent would, as in the toolkits); near a root the
/// steps are Newton's and converge quadratically; at a slow point (a local minimum of q above zero) the Cauchy steps
/// settle into it. No Newton step is made while the region is smaller than the Cauchy step. Below
/// <see cref="FormedBelowSize"/> state values J is formed and each state's products and LU are managed code
/// (<see cref="FormedBasis"/>); from it on, products with J come from the model's <see cref="JacobianOperator"/>, which
/// need not form J, and Newton steps from <see cref="NewtonStepSolver"/> (GMRES preconditioned by the start's own last
/// LU, a fresh LU only where that does not converge); no J^T J either way.
/// A start stops when q reaches its rounding floor, when no step lowers q, when it stops making progress (q and
/// |grad q| both short of halving in <see cref="StallWindow"/> iterations), or after MaxIterations. Starts go in
/// chunks of bounded cost (at worst an LU of S^3 each), so cancellation is checked often at any size.
/// </summary>
internal static class TrustRegionNewton
{
    public static (double[][] States, int[] Iterations, bool[] Capped) Run(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        int s = model.StateSize, total = starts.Count;
        int chunk = WorkBudget.Items(WorkBudget.NewtonChunkFlops, (double)s * s * s, 4096);
        var states = new double[total][];
        var iterations = new int[total];
        var capped = new bool[total];
        int slots = Math.Min(chunk, total);
        bool formed = s < FormedBelowSize;
        MemoryGuard.Require(MemoryGuard.Matrices(slots, s) + (formed ? 0 : NewtonStepSolver.Bytes(s, slots)), $"Newton steps from {slots} start(s) of {s} values");
        var solver = formed ? null : new NewtonStepSolver(s, slots);
        for (int first = 0; first < total; first += chunk)
        {
            int n = Math.Min(chunk, total - first);
            solver?.Forget();
            using var scope = torch.NewDisposeScope();
            // The states stay here, row-major; each iteration hands libtorch the rows still active.
            var h = new double[n * s];
            for (int k = 0; k < n; k++) starts[first + k].CopyTo(h, k * s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize);
            var radius = starts.Skip(first).Take(n).Select(st => InitialRadius * (1 + Math.Sqrt(VectorMath.Dot(st, st)))).ToArray();
            // q and |grad q| StallWindow iterations ago, per start, to see whether it still moves.
            var history = new (double Q, double Gradient)[n, StallWindow];
            var active = Enumerable.Range(0, n).ToArray();
            for (int iteration = 1; active.Length > 0; iteration++)
            {
                if (iteration > options.Iterations)
                {
                    foreach (int k in active) capped[first + k] = true;
                    break;
                }
                cancel.ThrowIfCancellationRequested();
                using var inner = torch.NewDisposeScope();
                var xa = new double[active.Length * s];
                for (int k = 0; k < active.Length; k++) Array.Copy(h, active[k] * s, xa, k * s, s);
                var ua = u.expand(active.Length, model.InputSize);
                var rows = active.Select(i => radius[i]).ToArray();
                var basis = formed ? FormedBasis(model, ua, xa, rows) : OperatorBasis(model, ua, xa, rows, solver!, active);
                var (q, gradient, moved) = DoglegStep(model, ua, xa, basis, rows);
                var still = new List<int>();
                for (int k = 0; k < active.Length; k++)
                {
                    int start = active[k];
                    Array.Copy(xa, k * s, h, start * s, s);
                    iterations[first + start] = iteration;
                    radius[start] = rows[k];
                    ref var past = ref history[start, iteration % StallWindow];
                    // Still moving: a step lowered q, and within the window q or |grad q| fell by half (a start that
                    // creeps costs iterations and gets nowhere; one converging to a slow point halves its gradient).
                    bool creeping = iteration > StallWindow && q[k] > 0.5 * past.Q && gradient[k] > 0.5 * past.Gradient;
                    past = (q[k], gradient[k]);
                    if (moved[k] && !creeping) still.Add(start);
                }
                active = still.ToArray();
                progress?.Invoke(new FixedPointProgress(iteration, active.Length + total - first - n, total, q.DefaultIfEmpty(0).Max()));
            }
            for (int k = 0; k < n; k++) states[first + k] = h.AsSpan(k * s, s).ToArray();
        }
        return (states, iterations, capped);
    }

    /// <summary>
    /// Below this many state values each iteration forms J and works per state in managed code (<see cref="FormedBasis"/>);
    /// from it on, products with the Jacobian operator and Newton steps that reuse factors (<see cref="NewtonStepSolver"/>).
    /// Search alone, one thread, fastest of 9 runs, operator path then formed: 16-unit flip-flop (1,024 starts) 44 and
    /// 27 ms; LSTM 20 179 and 103; GRU 32 229 and 123; 64-unit flip-flop 157 and 122; context network 64 232 and 134;
    /// 96 random units 1.12 and 0.80 s; at 128 units 3.5 and 4.1 s; 256-unit flip-flop 1.4 and 3.0 s.
    /// </summary>
    internal const int FormedBelowSize = 128;

    /// <summary>Iterations over which a start must halve q or |grad q| to go on (half in 10 is 7% an iteration).</summary>
    private const int StallWindow = 10;

    /// <summary>
    /// The first trust radius, relative to 1 + |h| of the start: the first steps go downhill on q, so a start ends where
    /// descent takes it. Measured on the flip-flop (1,024 starts): 27 points, as the toolkits' Adam; radii of 10 and more
    /// (Newton's full steps) found 23.
    /// </summary>
    private const double InitialRadius = 0.1;

    /// <summary>
    /// Tries per iteration, each on a radius cut to a quarter: 12 cuts shrink it 4^12 (about 1.7e7) times, below any
    /// step that changes q in double precision; a start with no step that lowers q by then has stalled.
    /// </summary>
    private const int MaxTries = 12;

    /// <summary>Powell's trust-region rule: below this ratio of actual to predicted decrease the radius shrinks, above <see cref="GoodAgreement"/> it may grow.</summary>
    private const double PoorAgreement = 0.25, GoodAgreement = 0.75;

    /// <summary>About two ulps of double precision: the relative rounding of a state's values, for q's floor.</summary>
    private const double StateRounding = 4e-16;

    /// <summary>
    /// What an iteration needs of each state: the gradient g = J_r^T r, the Newton step n (J_r n = -r + e, e as small
    /// as the solver leaves it; zero where the step was not needed), both row-major [B, S], and per state the numbers
    /// the dogleg and its quadratic model take (see <see cref="Field"/>).
    /// </summary>
    private sealed record Basis(double[] G, double[] Newton, double[] Fields);

    /// <summary>
    /// The per-state numbers of a <see cref="Basis"/>, with e = J_r n + r (n's error): |g|^2, |J_r g|^2, |n|^2, g.n,
    /// |r|^2, r.J_r g, n usable (1) or not (0), max |h|, r.e, J_r g.e, |e|^2.
    /// </summary>
    private enum Field { GG, JgJg, NN, GN, RR, RJg, Usable, MaxH, RE, JgE, EE, Count }

    /// <summary>
    /// One state's numbers of a <see cref="Basis"/>, by name. The basis keeps them in one flat buffer, in the order of
    /// <see cref="Field"/>, because both of its sources write them in bulk (from one tensor read, or a managed loop).
    /// </summary>
    private readonly record struct Quantities(double GG, double JgJg, double NN, double GN, double RR, double RJg, bool Usable, double MaxH,
        double RE, double JgE, double EE)
    {
        public static Quantities At(double[] fields, int k)
        {
            var f = fields.AsSpan((int)Field.Count * k, (int)Field.Count);
            return new(f[(int)Field.GG], f[(int)Field.JgJg], f[(int)Field.NN], f[(int)Field.GN], f[(int)Field.RR], f[(int)Field.RJg],
                f[(int)Field.Usable] != 0, f[(int)Field.MaxH], f[(int)Field.RE], f[(int)Field.JgE], f[(int)Field.EE]);
        }
    }

    /// <summary>
    /// The Newton step is needed only where it can be taken: when the Cauchy point lies outside the region, so does the
    /// Newton step (for the model's J_r^T J_r, |Cauchy| &lt;= |Newton|), and every try is a steepest-descent step.
    /// </summary>
    private static bool NeedsNewton(double gg, double jgjg, double radius) => !(gg > 0 && jgjg > 0) || Math.Pow(gg, 1.5) / jgjg < radius;

    /// <summary>
    /// The basis from the model's Jacobian operator, in batched tensor products (J need not be formed; Newton steps from
    /// <paramref name="solver"/>). <paramref name="owners"/>: each batch row's start in the chunk (its solver slot).
    /// </summary>
    private static Basis OperatorBasis(RnnModel model, Tensor u, double[] h, double[] radius, NewtonStepSolver solver, int[] owners)
    {
        int batch = (int)u.shape[0];
        var x = TensorData.Aligned(h, batch, model.StateSize);
        var jacobian = model.StateJacobianOperator(u, x);
        var r = jacobian.Next - x;
        var g = jacobian.ApplyTransposed(r) - r;
        var jg = jacobian.Apply(g) - g;
        Tensor Dot(Tensor a, Tensor b) => (a * b).sum(1);
        const int fields = (int)Field.Count;
        var d = new double[fields * batch];
        // Read in two reads, n's after its solve.
        void Read(IReadOnlyList<int> rows, params (Field Field, Tensor Column)[] columns)
        {
            var values = TensorData.Values(torch.stack(columns.Select(c => c.Column).ToArray(), 1));
            for (int k = 0; k < rows.Count; k++)
                for (int c = 0; c < columns.Length; c++) d[fields * rows[k] + (int)columns[c].Field] = values[k * columns.Length + c];
        }
        Read(Enumerable.Range(0, batch).ToArray(), (Field.GG, Dot(g, g)), (Field.JgJg, Dot(jg, jg)), (Field.RR, Dot(r, r)), (Field.RJg, Dot(r, jg)),
            (Field.MaxH, x.abs().amax(new long[] { 1 })));
        var need = Enumerable.Range(0, batch).Where(k => NeedsNewton(d[fields * k + (int)Field.GG], d[fields * k + (int)Field.JgJg], radius[k])).ToArray();
        var newton = torch.zeros_like(g);
        if (need.Length > 0)
        {
            var rows = torch.tensor(need.Select(k => (long)k).ToArray());
            var (n, e, usable) = solver.Solve(r, jacobian, need, need.Select(k => owners[k]).ToArray());
            newton.index_copy_(0, rows, n);
            var gr = g.index_select(0, rows);
            var rr = r.index_select(0, rows);
            var jgr = jg.index_select(0, rows);
            Read(need, (Field.NN, Dot(n, n)), (Field.GN, Dot(gr, n)), (Field.Usable, usable), (Field.RE, Dot(rr, e)), (Field.JgE, Dot(jgr, e)), (Field.EE, Dot(e, e)));
        }
        return new Basis(TensorData.Flat(g), TensorData.Flat(newton), d);
    }

    /// <summary>
    /// Below <see cref="FormedBelowSize"/> state values: the basis from J formed once per iteration and everything else
    /// in managed code per state (products, a dense LU), so an iteration costs a few libtorch calls, not dozens whose
    /// cost at these sizes is the call itself. An LU leaves e at rounding, taken as zero.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Basis FormedBasis(RnnModel model, Tensor u, double[] h, double[] radius)
    {
        int batch = (int)u.shape[0], s = model.StateSize;
        const int fields = (int)Field.Count;
        var (nextStates, stateJacobians, _) = model.Linearize(u, TensorData.Aligned(h, batch, s));
        var nextAll = TensorData.Values(nextStates);
        var jAll = TensorData.Values(stateJacobians);
        var d = new double[fields * batch];
        var gAll = new double[batch * s];
        var nAll = new double[batch * s];
        var j = new double[s * s];
        var r = new double[s];
        var jg = new double[s];
        var swaps = new int[s];
        for (int k = 0; k < batch; k++)
        {
            var next = nextAll.Slice(k * s, s);
            jAll.Slice(k * s * s, s * s).CopyTo(j);
            for (int i = 0; i < s; i++) j[i * s + i] -= 1;   // J_r = J - I
            var hk = h.AsSpan(k * s, s);
            var g = gAll.AsSpan(k * s, s);
            double maxH = 0;
            for (int i = 0; i < s; i++)
            {
                r[i] = next[i] - hk[i];
                maxH = Math.Max(maxH, Math.Abs(hk[i]));
            }
            for (int i = 0; i < s; i++) VectorMath.MultiplyAdd(j.AsSpan(i * s, s), r[i], g);   // J_r^T r, row by row
            for (int i = 0; i < s; i++) jg[i] = VectorMath.Dot(j.AsSpan(i * s, s), g);
            var f = d.AsSpan(k * fields, fields);
            f[(int)Field.GG] = VectorMath.Dot(g, g);
            f[(int)Field.JgJg] = VectorMath.Dot(jg, jg);
            f[(int)Field.RR] = VectorMath.Dot(r, r);
            f[(int)Field.RJg] = VectorMath.Dot(r, jg);
            f[(int)Field.MaxH] = maxH;
            if (!NeedsNewton(f[(int)Field.GG], f[(int)Field.JgJg], radius[k]) || !DenseLu.Factor(j, s, swaps)) continue;
            var n = nAll.AsSpan(k * s, s);
            for (int i = 0; i < s; i++) n[i] = -r[i];
            DenseLu.Solve(j, s, swaps, n);
            bool usable = true;
            foreach (double v in n) usable &= double.IsFinite(v);
            if (!usable) { n.Clear(); continue; }
            f[(int)Field.NN] = VectorMath.Dot(n, n);
            f[(int)Field.GN] = VectorMath.Dot(g, n);
            f[(int)Field.Usable] = 1;
        }
        return new Basis(gAll, nAll, d);
    }

    /// <summary>
    /// One dogleg iteration for a batch from its <see cref="Basis"/>: moves the states h (row-major [B, S]) in place and
    /// updates the radii; returns the new q, |grad q| where each started, and whether each moved (took a step that
    /// lowered q by more than rounding and is still above q's rounding floor). Every step is a g + b n, so the quadratic
    /// model's prediction, |r + J_r p|^2 = |(1 - b) r + a J_r g + b e|^2, comes from the basis's numbers: a try costs
    /// one step of the network, and the choice of step is plain arithmetic here.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static (double[] Q, double[] Gradient, bool[] Moved) DoglegStep(RnnModel model, Tensor u, double[] h, Basis basis, double[] radius)
    {
        int batch = radius.Length, size = model.StateSize;
        var (g, newton, d) = basis;
        var v = Enumerable.Range(0, batch).Select(k => Quantities.At(d, k)).ToArray();
        var q = new double[batch];
        var pending = new bool[batch];
        for (int k = 0; k < batch; k++)
        {
            q[k] = 0.5 * v[k].RR;
            pending[k] = (v[k].GG > 0 && v[k].JgJg > 0) || v[k].Usable;   // g = 0 and no Newton step: nothing to try
        }
        var newQ = (double[])q.Clone();
        var best = new double[batch * size];
        var a = new double[batch];
        var b = new double[batch];
        var norm = new double[batch];
        var predicted = new double[batch];
        for (int attempt = 0; attempt < MaxTries && pending.Any(p => p); attempt++)
        {
            // The tries of the rows still pending only: after the first, most rows have taken their step.
            var open = Enumerable.Range(0, batch).Where(k => pending[k]).ToArray();
            var trial = new double[open.Length * size];
            for (int i = 0; i < open.Length; i++)
            {
                int k = open[i];
                (a[k], b[k]) = Dogleg(v[k].GG, v[k].JgJg, v[k].NN, v[k].GN, v[k].Usable, radius[k]);
                norm[k] = Math.Sqrt(Math.Max(0, a[k] * a[k] * v[k].GG + 2 * a[k] * b[k] * v[k].GN + b[k] * b[k] * v[k].NN));
                // The model's q at a g + b n: 1/2 |r + a J_r g + b J_r n|^2 = 1/2 |c r + a J_r g + b e|^2 with c = 1 - b.
                double c = 1 - b[k];
                predicted[k] = q[k] - 0.5 * (c * c * v[k].RR + a[k] * a[k] * v[k].JgJg + b[k] * b[k] * v[k].EE
                    + 2 * (a[k] * c * v[k].RJg + b[k] * c * v[k].RE + a[k] * b[k] * v[k].JgE));
                for (int e = 0; e < size; e++)
                    trial[i * size + e] = h[k * size + e] + a[k] * g[k * size + e] + b[k] * newton[k * size + e];
            }
            var stepped = TensorData.Values(model.Step(u.narrow(0, 0, open.Length), TensorData.Aligned(trial, open.Length, size)));
            for (int i = 0; i < open.Length; i++)
            {
                int k = open[i];
                var point = trial.AsSpan(i * size, size);
                double qt = 0;
                for (int e = 0; e < size; e++) qt += (stepped[i * size + e] - point[e]) * (stepped[i * size + e] - point[e]);
                qt *= 0.5;
                bool ok = double.IsFinite(qt) && qt < q[k];
                double rho = (q[k] - qt) / predicted[k];
                // The radius: a quarter of the step when the model predicted badly (or the step failed), doubled when it predicted well at the edge.
                if (!ok || !(rho >= PoorAgreement)) radius[k] = 0.25 * norm[k];
                else if (rho > GoodAgreement && norm[k] >= 0.99 * radius[k]) radius[k] *= 2;
                if (!ok) continue;
                point.CopyTo(best.AsSpan(k * size, size));
                (newQ[k], pending[k]) = (qt, false);
            }
        }
        var moved = new bool[batch];
        for (int k = 0; k < batch; k++)
        {
            // Below q's rounding floor (residuals of a few ulps of the state's scale) no step means anything.
            double floor = 0.5 * size * Math.Pow(StateRounding * (1 + v[k].MaxH), 2);
            moved[k] = q[k] - newQ[k] > 1e-15 * q[k] && newQ[k] > floor;
            if (newQ[k] < q[k]) best.AsSpan(k * size, size).CopyTo(h.AsSpan(k * size, size));
        }
        return (newQ, Enumerable.Range(0, batch).Select(k => Math.Sqrt(v[k].GG)).ToArray(), moved);
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
}

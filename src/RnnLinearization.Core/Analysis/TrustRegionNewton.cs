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
/// settle into it. Newton steps come from <see cref="NewtonStepSolver"/> (GMRES preconditioned by the start's own last
/// LU, a fresh LU only where that does not converge), none while the region is smaller than the Cauchy step;
/// products with J come from the model's <see cref="JacobianOperator"/>, which need not form J; no J^T J.
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
        int chunk = (int)Math.Clamp(1e9 / ((double)s * s * s + 1), 1, 4096);
        var states = new double[total][];
        var iterations = new int[total];
        var capped = new bool[total];
        int slots = Math.Min(chunk, total);
        MemoryGuard.Require(MemoryGuard.Matrices(slots, s) + NewtonStepSolver.Bytes(s, slots), $"Newton steps from {slots} start(s) of {s} values");
        var solver = new NewtonStepSolver(s, slots);
        for (int first = 0; first < total; first += chunk)
        {
            int n = Math.Min(chunk, total - first);
            solver.Forget();
            using var scope = torch.NewDisposeScope();
            var x = TensorData.FromRows(starts.Skip(first).Take(n).ToList(), s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize);
            var radius = starts.Skip(first).Take(n).Select(h => InitialRadius * (1 + Math.Sqrt(h.Sum(v => v * v)))).ToArray();
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
                var at = torch.tensor(active.Select(i => (long)i).ToArray());
                var xa = x.index_select(0, at);
                var ua = u.expand(active.Length, model.InputSize);
                var jacobian = model.StateJacobianOperator(ua, xa);
                var rows = active.Select(i => radius[i]).ToArray();
                var (newX, q, gradient, moved) = DoglegStep(model, ua, xa, jacobian, rows, solver, active);
                x.index_copy_(0, at, newX);
                var still = new List<int>();
                for (int k = 0; k < active.Length; k++)
                {
                    int start = active[k];
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
            var rowsOut = TensorData.ToRows(x);
            for (int k = 0; k < n; k++) states[first + k] = rowsOut[k];
        }
        return (states, iterations, capped);
    }

    /// <summary>Iterations over which a start must halve q or |grad q| to go on (half in 10 is 7% an iteration).</summary>
    private const int StallWindow = 10;

    /// <summary>
    /// The first trust radius, relative to 1 + |h| of the start: the first steps go downhill on q, so a start ends where
    /// descent takes it. Measured on the flip-flop (1,024 starts): 27 points, as the toolkits' Adam; radii of 10 and more
    /// (Newton's full steps) found 23.
    /// </summary>
    private const double InitialRadius = 0.1;

    /// <summary>
    /// One dogleg iteration for a batch, J_r = J - I and r = F(h) - h from the Jacobian operator: the new states, their q,
    /// and whether each moved (took a step that lowered q by more than rounding and is still above q's rounding floor);
    /// the radii are updated in place; and |grad q| where each started. Every step is a g + b n, with g = J_r^T r and n the Newton step (J_r n = -r + e,
    /// e as small as the solver leaves it), so the quadratic model's prediction, |r + J_r p|^2 = |(1 - b) r + a J_r g +
    /// b e|^2, comes from a few dot products per state: the tries cost one step of the network each, and the choice of
    /// step is plain arithmetic here. <paramref name="owners"/>: each batch row's start in the chunk (its solver slot).
    /// </summary>
    private static (Tensor X, double[] Q, double[] Gradient, bool[] Moved) DoglegStep(RnnModel model, Tensor u, Tensor x, JacobianOperator jacobian,
        double[] radius, NewtonStepSolver solver, int[] owners)
    {
        int batch = (int)x.shape[0], size = (int)x.shape[1];
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
            // The tries of the rows still pending only: after the first, most rows have taken their step.
            var open = Enumerable.Range(0, batch).Where(k => pending[k]).ToArray();
            Tensor Rows(Tensor t) => open.Length == batch ? t : t.index_select(0, torch.tensor(open.Select(k => (long)k).ToArray()));
            var trial = Rows(x) + torch.tensor(open.Select(k => a[k]).ToArray()).unsqueeze(1) * Rows(g)
                + torch.tensor(open.Select(k => b[k]).ToArray()).unsqueeze(1) * Rows(newton);
            var tried = TensorData.Values(0.5 * (model.Step(Rows(u), trial) - trial).square().sum(1));
            var qt = new double[batch];
            for (int i = 0; i < open.Length; i++) qt[open[i]] = tried[i];
            foreach (int k in open)
            {
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
            double floor = 0.5 * size * Math.Pow(4e-16 * (1 + V(k, 7)), 2);
            moved[k] = q[k] - newQ[k] > 1e-15 * q[k] && newQ[k] > floor;
        }
        return (newX, newQ, Enumerable.Range(0, batch).Select(k => Math.Sqrt(V(k, 0))).ToArray(), moved);
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

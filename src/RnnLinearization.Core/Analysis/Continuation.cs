using System.Numerics;

namespace RnnLinearization.Core;

/// <summary>What happens at a point of a branch: nothing, or a bifurcation located there.</summary>
public enum BifurcationKind
{
    None,
    /// <summary>A real eigenvalue crosses +1 and the branch turns back in the input (a saddle-node): memories appear or vanish.</summary>
    Fold,
    /// <summary>A real eigenvalue crosses -1 (period doubling).</summary>
    Flip,
    /// <summary>A complex pair crosses the unit circle (a Neimark-Sacker, or discrete Hopf, point).</summary>
    NeimarkSacker,
    /// <summary>An eigenvalue crosses +1 without a turn: another branch crosses this one (pitchfork, transcritical).</summary>
    BranchPoint,
}

/// <summary>Why a branch stopped.</summary>
public enum BranchEnd
{
    /// <summary>It reached the path's last input.</summary>
    PathEnd,
    /// <summary>After a fold it came back past the start of a segment of the path.</summary>
    TurnedBack,
    /// <summary>The corrector failed down to -MinStepSize.</summary>
    StepTooSmall,
    /// <summary>It took -MaxSteps steps.</summary>
    StepLimit,
    /// <summary>Newton from the start did not converge at the path's first input: nothing was followed.</summary>
    StartNotFixed,
}

/// <summary>
/// The points of all branches, in order, how each branch ended, and how far Newton moved each start (max-norm) to the
/// fixed point it followed: far means the start was not a fixed point at the path's first input.
/// </summary>
public sealed record ContinuationResult(List<BranchPoint> Points, BranchEnd[] Ends, double[] StartMoved);

/// <summary>
/// One point of a followed branch: its position Parameter along the input path (0 at the first input, k at the k-th
/// corner), the input and state there, the eigenvalues of the state Jacobian (largest magnitude first), and Event.
/// </summary>
public sealed record BranchPoint(int Branch, int Step, double Parameter, double[] Input, double[] State, Complex[] Eigenvalues,
    BifurcationKind Event, double Residual);

/// <summary>Steps along a branch (in the arclength of (state, parameter)), Newton's tolerance on |F(h) - h|, and the step limit.</summary>
public sealed record ContinuationOptions(double StepSize = 0.02, double MinStepSize = 1e-9, double MaxStepSize = 0.1, int MaxSteps = 2000,
    double Tolerance = 1e-10);

/// <summary>
/// Fixed points followed along an input path u(p) by pseudo-arclength continuation: with X = (h, p) and
/// G(X) = F(h, u(p)) - h, each step predicts X + ds t along the tangent t (the null vector of [G_h G_p], from the bordered
/// system [G_h G_p; t_prev'] t = [0; 1], which stays regular through folds) and corrects by Newton on
/// [G(X); t'(X - X_pred)] = 0. Folds are where the tangent's p-component changes sign, branch points where the
/// bordered determinant does, flips and Neimark-Sacker points where an eigenvalue crosses -1 or a complex pair the
/// unit circle; each is located by the Illinois method on the arclength. The path is a polyline of inputs, followed a
/// segment at a time.
/// </summary>
public static class Continuation
{
    /// <summary>Newton iterations a correction may take before the step is halved.</summary>
    private const int CorrectorIterations = 8;

    /// <summary>Corrections that converge in this many iterations or fewer let the next step grow.</summary>
    private const int EasyCorrection = 3;

    /// <summary>Illinois iterations to locate a bifurcation; each halves the bracket or better.</summary>
    private const int LocateIterations = 60;

    public static ContinuationResult Follow(RnnModel model, IReadOnlyList<double[]> path, IReadOnlyList<double[]> starts, ContinuationOptions options,
        Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        if (path.Count < 2)
            throw new RnnException("InvalidInputPath", RnnErrorKind.InvalidArgument, "An input path needs at least two inputs.");
        foreach (var u in path) Check.Input(model, u);
        for (int k = 1; k < path.Count; k++)
            if (path[k].SequenceEqual(path[k - 1]))
                throw new RnnException("InvalidInputPath", RnnErrorKind.InvalidArgument,
                    $"Inputs {k - 1} and {k} of the path are the same: a path must go somewhere (-From and -To, consecutive rows of -InputPath, and the two values of -Range must differ).");
        for (int i = 0; i < starts.Count; i++) Check.Vector(starts[i], model.StateSize, $"Start {i}", "StateLengthMismatch");
        if (!(options.StepSize > options.MinStepSize) || !(options.MinStepSize > 0) || !(options.MaxStepSize >= options.StepSize) || options.MaxSteps < 1 || !(options.Tolerance > 0))
            throw new RnnException("InvalidContinuationOption", RnnErrorKind.InvalidArgument,
                "-StepSize must be above the smallest step, -Tolerance above 0, -MaxStepSize at least -StepSize, and -MaxSteps at least 1.");
        TorchRuntime.EnsureLoaded();
        using var threads = TorchRuntime.SequentialSteps(model.StateSize);
        var result = new List<BranchPoint>();
        var ends = new BranchEnd[starts.Count];
        var moved = new double[starts.Count];
        for (int b = 0; b < starts.Count; b++)
        {
            cancel.ThrowIfCancellationRequested();
            var branch = new Branch(model, path, b, options, result, cancel);
            ends[b] = branch.Run(starts[b]);
            moved[b] = branch.StartMoved;
            progress?.Invoke(b + 1, starts.Count);
        }
        return new ContinuationResult(result, ends, moved);
    }

    /// <summary>
    /// A point of the branch with what the next step needs: the tangent, and the test functions' values. The eigenvalues
    /// are computed when first asked for: the points tried while a fold is located never need them.
    /// </summary>
    private sealed record Node(double[] X, double[] Tangent, Lazy<Complex[]> Spectrum, int BorderedSign, double Residual)
    {
        public Complex[] Eigenvalues => Spectrum.Value;
        public double Fold => Tangent[^1];
        public int RealAbove => Eigenvalues.Count(l => l.Imaginary == 0 && l.Real > 1);
        public int FlipCount => Eigenvalues.Count(l => l.Imaginary == 0 && l.Real < -1);
        public int PairsOutside => Eigenvalues.Count(l => l.Imaginary > 0 && l.Magnitude > 1);
        public int Pairs => Eigenvalues.Count(l => l.Imaginary > 0);
    }

    private sealed class Branch(RnnModel model, IReadOnlyList<double[]> path, int index, ContinuationOptions options, List<BranchPoint> output,
        CancellationToken cancel)
    {
        private readonly int _s = model.StateSize;
        private int _segment, _step;

        /// <summary>How far (max-norm) Newton moved the start to a fixed point at the path's first input.</summary>
        public double StartMoved { get; private set; } = double.NaN;

        private double[] InputAt(double p) =>
            path[_segment].Select((a, i) => a + p * (path[_segment + 1][i] - a)).ToArray();

        private double[] InputSlope => path[_segment].Select((a, i) => path[_segment + 1][i] - a).ToArray();

        public BranchEnd Run(double[] start)
        {
            // The start is corrected at the path's first input (p = 0) by Newton on h alone.
            var x = Newton(start.Append(0.0).ToArray());
            if (x is null) return BranchEnd.StartNotFixed;
            StartMoved = start.Select((v, i) => Math.Abs(x[i] - v)).DefaultIfEmpty(0).Max();
            var initial = new double[_s + 1];
            initial[_s] = 1;   // the first tangent points toward growing p
            var node = Describe(x, initial);
            if (node is null) return BranchEnd.StartNotFixed;
            Emit(node, BifurcationKind.None);
            double ds = options.StepSize;
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                if (_step >= options.MaxSteps) return BranchEnd.StepLimit;
                var next = Advance(node, ref ds);
                if (next is null) return BranchEnd.StepTooSmall;
                if (next.X[^1] >= 1)
                {
                    // The segment's end: the point at p = 1 exactly, then the next segment from it.
                    var end = Newton(Clamp(next.X, 1.0));
                    if (end is null) { ds /= 2; if (ds < options.MinStepSize) return BranchEnd.StepTooSmall; continue; }
                    var last = Describe(end, node.Tangent);
                    if (last is null) { ds /= 2; if (ds < options.MinStepSize) return BranchEnd.StepTooSmall; continue; }
                    Detect(node, last);
                    Emit(last, BifurcationKind.None);
                    if (_segment + 2 >= path.Count) return BranchEnd.PathEnd;
                    _segment++;
                    var restart = (double[])last.X.Clone();
                    restart[^1] = 0;
                    // The tangent in the new segment's parameter: recomputed from a push toward growing p.
                    node = Describe(restart, initial);
                    if (node is null) return BranchEnd.StepTooSmall;
                    continue;
                }
                Detect(node, next);
                if (next.X[^1] < 0) return BranchEnd.TurnedBack;   // back past the segment's start, after a fold
                Emit(next, BifurcationKind.None);
                node = next;
            }
        }

        /// <summary>One accepted step from a node: halved until the corrector converges, grown when it converges easily.</summary>
        private Node? Advance(Node from, ref double ds)
        {
            while (ds >= options.MinStepSize)
            {
                var (node, iterations) = Correct(from, ds);
                if (node is not null)
                {
                    if (iterations <= EasyCorrection) ds = Math.Min(ds * 1.5, options.MaxStepSize);
                    return node;
                }
                ds /= 2;
            }
            return null;
        }

        /// <summary>
        /// The point at arclength ds from a node along its tangent, corrected; null when Newton does not converge or
        /// moves farther than ds from the prediction (it would have jumped to another branch).
        /// </summary>
        private (Node? Node, int Iterations) Correct(Node from, double ds)
        {
            var predicted = from.X.Select((v, i) => v + ds * from.Tangent[i]).ToArray();
            var x = (double[])predicted.Clone();
            for (int iteration = 1; iteration <= CorrectorIterations; iteration++)
            {
                var (g, m) = Bordered(x, from.Tangent);
                double arc = 0;
                for (int i = 0; i <= _s; i++) arc += from.Tangent[i] * (x[i] - predicted[i]);
                var delta = g.Select(v => -v).Append(-arc).ToArray();
                var lu = Factorisation.Of(m, _s + 1);
                if (lu is null) return (null, iteration);
                bool kept = false;
                try
                {
                    lu.Solve(delta);
                    for (int i = 0; i <= _s; i++) x[i] += delta[i];
                    if (!x.All(double.IsFinite)) return (null, iteration);
                    double residual = Residual(x);
                    if (residual > options.Tolerance) continue;
                    double moved = Math.Sqrt(x.Select((v, i) => (v - predicted[i]) * (v - predicted[i])).Sum());
                    if (moved > Math.Abs(ds) + 1e-9) return (null, iteration);
                    // The tangent from the last iteration's factorisation: it is off by the last correction, by then tiny.
                    kept = true;
                    var node = Describe(x, from.Tangent, lu, residual);
                    return node is null ? (null, iteration) : (node, iteration);
                }
                finally { if (!kept) lu.Dispose(); }
            }
            return (null, CorrectorIterations);
        }

        /// <summary>Newton on G(h, p) = 0 in h alone, p held; null when it does not converge.</summary>
        private double[]? Newton(double[] x)
        {
            x = (double[])x.Clone();
            for (int iteration = 0; iteration < 3 * CorrectorIterations; iteration++)
            {
                var (next, jh, _) = Linearise(x);
                var a = new double[_s * _s];
                var r = new double[_s];
                for (int i = 0; i < _s; i++)
                {
                    r[i] = x[i] - next[i];
                    for (int j = 0; j < _s; j++) a[i * _s + j] = jh[i][j] - (i == j ? 1 : 0);
                }
                if (r.Max(Math.Abs) <= options.Tolerance) return x;
                using var lu = Factorisation.Of(a, _s);
                if (lu is null) return null;
                lu.Solve(r);
                for (int i = 0; i < _s; i++) x[i] += r[i];
                if (!x.All(double.IsFinite)) return null;
            }
            return Residual(x) <= options.Tolerance ? x : null;
        }

        private (double[] Next, double[][] StateJacobian, double[][] InputJacobian) Linearise(double[] x)
        {
            var u = InputAt(x[^1]);
            var j = Linearization.Jacobians(model, new[] { u }, new[] { x[.._s] })[0];
            return (j.NextState, j.StateJacobian, j.InputJacobian);
        }

        private double Residual(double[] x)
        {
            var next = Linearization.Step(model, new[] { InputAt(x[^1]) }, new[] { x[.._s] })[0];
            double worst = 0;
            for (int i = 0; i < _s; i++) worst = Math.Max(worst, Math.Abs(next[i] - x[i]));
            return worst;
        }

        /// <summary>G(X) and the bordered matrix [J - I, J_x du/dp; t'] (row-major, (S + 1)^2) at X.</summary>
        private (double[] G, double[] M) Bordered(double[] x, double[] tangent)
        {
            var (next, jh, jx) = Linearise(x);
            var slope = InputSlope;
            int n = _s + 1;
            var m = new double[n * n];
            var g = new double[_s];
            for (int i = 0; i < _s; i++)
            {
                g[i] = next[i] - x[i];
                for (int j = 0; j < _s; j++) m[i * n + j] = jh[i][j] - (i == j ? 1 : 0);
                double gp = 0;
                for (int k = 0; k < slope.Length; k++) gp += jx[i][k] * slope[k];
                m[i * n + _s] = gp;
            }
            for (int j = 0; j < n; j++) m[_s * n + j] = tangent[j];
            return (g, m);
        }

        /// <summary>
        /// A corrected point's tangent (oriented by the previous one), eigenvalues and bordered determinant's sign, from a
        /// factorisation of the bordered matrix given (then disposed) or made here.
        /// </summary>
        /// <remarks>Null when the tangent is not finite (the bordered system overflowed): a failed step, as a failed correction.</remarks>
        private Node? Describe(double[] x, double[] previousTangent, Factorisation? factorisation = null, double? residual = null)
        {
            int n = _s + 1;
            using var lu = factorisation ?? Factorisation.Of(Bordered(x, previousTangent).M, n);
            var t = new double[n];
            t[_s] = 1;
            int sign = 0;
            if (lu is not null)
            {
                lu.Solve(t);
                sign = lu.DeterminantSign;
            }
            else t = (double[])previousTangent.Clone();
            double norm = VectorMath.Norm(t);
            if (!(norm > 0) || !double.IsFinite(norm)) return null;
            for (int i = 0; i < n; i++) t[i] /= norm;
            var input = InputAt(x[^1]);
            var spectrum = new Lazy<Complex[]>(() => Spectrum.FromModel(model, new[] { input }, new[] { x[.._s] }, EigenSort.Magnitude, eigenvectors: false)[0].Eigenvalues,
                LazyThreadSafetyMode.None);
            return new Node(x, t, spectrum, sign, residual ?? Residual(x));
        }

        private static double[] Clamp(double[] x, double p)
        {
            var c = (double[])x.Clone();
            c[^1] = p;
            return c;
        }

        /// <summary>Every bifurcation between two consecutive nodes, located and emitted (in the order met).</summary>
        private void Detect(Node a, Node b)
        {
            var found = new List<(double Arc, Node Node, BifurcationKind Kind)>();
            bool turned = Math.Sign(a.Fold) != Math.Sign(b.Fold) && a.Fold != 0 && b.Fold != 0;
            if (turned) Locate(a, b, n => n.Fold, BifurcationKind.Fold, found);
            // A real eigenvalue crossing +1 changes the count above 1 by one; a complex pair meeting on the real axis, by two.
            else if (a.BorderedSign * b.BorderedSign < 0 || a.BorderedSign * b.BorderedSign == 0 && (a.RealAbove - b.RealAbove) % 2 != 0)
                Locate(a, b, n => Product(n.Eigenvalues, l => l.Imaginary == 0 ? l.Real - 1 : 1), BifurcationKind.BranchPoint, found);
            if ((a.FlipCount - b.FlipCount) % 2 != 0)
                Locate(a, b, n => Product(n.Eigenvalues, l => l.Imaginary == 0 ? l.Real + 1 : 1), BifurcationKind.Flip, found);
            if (a.Pairs == b.Pairs && (a.PairsOutside - b.PairsOutside) % 2 != 0)
                Locate(a, b, n => Product(n.Eigenvalues, l => l.Imaginary > 0 ? l.Magnitude - 1 : 1), BifurcationKind.NeimarkSacker, found);
            foreach (var (_, node, kind) in found.OrderBy(f => f.Arc)) Emit(node, kind);
        }

        private static double Product(IEnumerable<Complex> eigenvalues, Func<Complex, double> factor)
        {
            double sign = 1;
            foreach (var l in eigenvalues) sign *= factor(l) is var v && double.IsNaN(v) ? 0 : Math.Sign(v);
            // Only the sign changes; the factor nearest zero gives a magnitude for the secant steps.
            double nearest = eigenvalues.Select(factor).Where(v => v != 1).Select(Math.Abs).DefaultIfEmpty(1).Min();
            return sign * nearest;
        }

        /// <summary>
        /// The zero of a test function between nodes a and b, by the Illinois method on the arclength from a (each value
        /// a corrected point): the point whose value is nearest zero.
        /// </summary>
        private void Locate(Node a, Node b, Func<Node, double> test, BifurcationKind kind, List<(double, Node, BifurcationKind)> found)
        {
            double total = 0;
            for (int i = 0; i <= _s; i++) total += a.Tangent[i] * (b.X[i] - a.X[i]);
            double lo = 0, hi = total, flo = test(a), fhi = test(b);
            // Where no corrected point inside comes nearer, the end whose test value is nearer zero stands for the bifurcation.
            Node best = Math.Abs(flo) < Math.Abs(fhi) ? a : b;
            double at = Math.Abs(flo) < Math.Abs(fhi) ? lo : hi, bestValue = Math.Min(Math.Abs(flo), Math.Abs(fhi));
            int side = 0;
            for (int iteration = 0; iteration < LocateIterations && Math.Abs(hi - lo) > 1e-13 * (1 + Math.Abs(total)); iteration++)
            {
                double s = flo == fhi ? 0.5 * (lo + hi) : (lo * fhi - hi * flo) / (fhi - flo);
                if (!(s > Math.Min(lo, hi) && s < Math.Max(lo, hi))) s = 0.5 * (lo + hi);
                var (node, _) = Correct(a, s);
                if (node is null) { s = 0.5 * (lo + hi); (node, _) = Correct(a, s); if (node is null) break; }
                double f = test(node);
                if (double.IsNaN(f)) break;
                if (Math.Abs(f) <= bestValue) (best, at, bestValue) = (node, s, Math.Abs(f));   // the point nearest the zero
                if (f == 0) break;
                if (Math.Sign(f) == Math.Sign(flo))
                {
                    (lo, flo) = (s, f);
                    if (side == -1) fhi /= 2;
                    side = -1;
                }
                else
                {
                    (hi, fhi) = (s, f);
                    if (side == 1) flo /= 2;
                    side = 1;
                }
            }
            found.Add((at, best, kind));
        }

        private void Emit(Node node, BifurcationKind kind)
        {
            output.Add(new BranchPoint(index, _step, _segment + node.X[^1], InputAt(node.X[^1]), node.X[.._s], node.Eigenvalues, kind, node.Residual));
            if (kind == BifurcationKind.None) _step++;
        }
    }
}

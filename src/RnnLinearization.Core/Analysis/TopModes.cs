using System.Numerics;

namespace RnnLinearization.Core;

/// <summary>Which modes a partial decomposition looks for.</summary>
public enum TopTarget
{
    /// <summary>The modes nearest 1 in the complex plane: the slowest and the unstable ones (shift-invert about 1).</summary>
    NearestOne,
    /// <summary>The modes of largest magnitude (the spectral radius first).</summary>
    Magnitude,
}

/// <summary>
/// The k modes a partial decomposition found, in order of the target (nearest 1, or largest magnitude, first).
/// Residuals[i] = |J v_i - lambda_i v_i| with |v_i| = 1, computed with J itself: each pair is an exact eigenpair of a
/// matrix within that distance of J. Converged: every residual met the tolerance. Separated: mode k is apart from the
/// next candidate by more than both their uncertainties, so which k modes are "the first k" is well posed (in the
/// bulk of a trained spectrum, near-ties make it not). Eigenvectors only when asked for.
/// </summary>
/// <remarks>Method: "KrylovSchur", or "Full" where the full decomposition was taken (small or nearly singular matrices, and
/// wherever the partial one did not converge or met an exactly repeated eigenvalue, which one start vector cannot resolve).</remarks>
/// <remarks>Reason: why the full decomposition was taken (null for KrylovSchur), for the cmdlet's verbose stream.</remarks>
public sealed record TopEigenResult(Complex[] Eigenvalues, Complex[][]? Eigenvectors, double[] Residuals, bool Converged, bool Separated,
    string Method = "KrylovSchur", string? Reason = null);

/// <summary>
/// A few eigenvalues of a dense Jacobian without the full decomposition: Krylov-Schur (Stewart 2001) on an operator
/// whose largest eigenvalues are the wanted ones, (J - I)^-1 for the modes nearest 1 (one LU, then a solve per step)
/// or J for the largest. The Krylov decomposition A U = U B + f b' is extended by Arnoldi (classical Gram-Schmidt,
/// a second pass where the first lost most of the vector) to m vectors, and restarted by keeping the real invariant subspace of B for the wanted Ritz values (a
/// complex pair is kept whole), which is Krylov-Schur's truncation without the Schur form. The start vector is seeded,
/// so results repeat bit for bit. Small matrices (or k near S) take the full decomposition instead.
/// </summary>
public static class TopModes
{
    /// <summary>Relative residual of a Ritz pair of the operator at which it counts as converged.</summary>
    private const double Tolerance = 1e-13;

    /// <summary>The smallest LU pivot of J - I over the largest below which J has an eigenvalue at 1 to working precision.</summary>
    private const double SingularPivotRatio = 1e-12;

    /// <summary>Eigenvalues closer than this (relative) are one repeated eigenvalue.</summary>
    private const double RepeatedTolerance = 1e-9;

    /// <summary>An eigenvalue's rounding error relative to |J|_F (LAPACK's are exact to about eps |J|): below it two differ by nothing.</summary>
    private const double RoundingTolerance = 1e-13;

    /// <summary>|J v - lambda v| (|v| = 1) relative to |J|_F above which a returned pair does not count as converged.</summary>
    private const double ResidualTolerance = 1e-10;

    // A search stops (Converged false, and the full decomposition is taken) once its operations (the LU, 2 S^2 per
    // application, the orthogonalisations, and each restart's small eigendecomposition and truncation) reach those of
    // the full eigenvalues, WorkBudget.EigenFlops(S): a search that cannot converge costs about that again (in time 1.5
    // to 3.5 times the full decomposition with eigenvectors, since the small decompositions run slower per operation). A
    // count of restarts instead would cut off the largest modes of a circular bulk (1,024 units), which need a hundred
    // restarts but converge in half the full decomposition's time.

    /// <summary>Below this size the full decomposition is as fast, and exact.</summary>
    private const int FullBelow = 64;

    public static TopEigenResult[] FromMatrices(IReadOnlyList<double[][]> matrices, int k, TopTarget target, bool eigenvectors, CancellationToken cancel = default)
    {
        if (k < 1)
            throw new RnnException("InvalidTopCount", RnnErrorKind.InvalidArgument, $"-Top takes how many modes to find, 1 or more, not {k}.");
        var result = new TopEigenResult[matrices.Count];
        for (int i = 0; i < matrices.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            result[i] = Of(matrices[i], k, target, eigenvectors);
        }
        return result;
    }

    /// <summary>The top k modes of one square matrix (rows), checked: square and finite.</summary>
    public static TopEigenResult Of(double[][] j, int k, TopTarget target, bool eigenvectors)
    {
        int n = j.Length;
        foreach (var row in j)
        {
            if (row is null || row.Length != n)
                throw new RnnException("JacobianNotSquare", RnnErrorKind.InvalidArgument, $"The matrix has {n} rows but a row of {row?.Length ?? 0} values; a Jacobian must be square.");
            Check.Finite(row, "The Jacobian");
        }
        k = Math.Min(k, n);
        if (n < FullBelow) return FromFull(j, k, target, eigenvectors, $"below {FullBelow} state values it is as fast");
        if (k + 12 >= n) return FromFull(j, k, target, eigenvectors, $"{k} modes are within 12 of the {n} there are");
        // Each restart decomposes the m x m projection: where that is an eighth of the full decomposition's operations,
        // the few restarts the budget allows seldom converge (small S, or large k), and the full one is as fast.
        if (WorkBudget.EigenFlops(KrylovSchur.SubspaceSize(n, k), Vectors.Right) > WorkBudget.EigenFlops(n) / 8)
            return FromFull(j, k, target, eigenvectors, $"a search for {k} modes among {n} would cost as much");
        Factorisation? lu = null;
        if (target == TopTarget.NearestOne)
        {
            var shifted = new double[n * n];
            for (int r = 0; r < n; r++)
            {
                j[r].CopyTo(shifted, r * n);
                shifted[r * n + r] -= 1;
            }
            using var factor = Factorisation.Of(shifted, n);
            // An eigenvalue at 1 to working precision (saturated units, an exact integrator): the shift-invert is meaningless.
            if (factor is null || factor.PivotRatio < SingularPivotRatio)
                return FromFull(j, k, target, eigenvectors, "J - I is singular to working precision (an eigenvalue at 1), so the search about 1 is not defined");
            lu = factor.Managed();
        }
        using (lu)
        {
            void Apply(double[] x, double[] y)
            {
                if (lu is not null) { x.CopyTo(y, 0); lu.Solve(y); }
                else for (int r = 0; r < n; r++) y[r] = VectorMath.Dot(j[r], x);
            }
            var search = new KrylovSchur(n, k, Apply, spent: lu is null ? 0 : 2.0 / 3 * n * n * n);
            var (theta, vectors, converged) = search.Run();
            var lambda = theta.Select(t => WithoutNegativeZero(target == TopTarget.NearestOne ? 1 + 1 / t : t)).ToArray();
            var result = Finish(j, target, theta, lambda, vectors, k, eigenvectors, converged, search.Uncertainty);
            // What one start vector cannot resolve goes to the full decomposition: a search that did not converge (J's own
            // residuals too large), and exactly repeated eigenvalues (saturated units, copies of a block), where Krylov
            // finds one copy at a time and can return a pair's member without its conjugate.
            if (!result.Converged) return FromFull(j, k, target, eigenvectors, "the search did not converge before its operations reached those of the full eigenvalues");
            if (RepeatedDecoupled(j, result.Eigenvalues[^1], target) is { } repeated)
                return FromFull(j, k, target, eigenvectors, $"{repeated.Count} units are decoupled (saturated) with the eigenvalue {repeated.Value:G6}, a repeated eigenvalue among the top modes that one start vector finds only once");
            return Resolved(result.Eigenvalues) ? result
                : FromFull(j, k, target, eigenvectors, "an eigenvalue is repeated (or a pair's member came without its conjugate), which one start vector cannot resolve");
        }
    }

    /// <summary>The operator's Ritz values mapped back to J's eigenvalues, certified by J's own residuals.</summary>
    private static TopEigenResult Finish(double[][] j, TopTarget target, Complex[] theta, Complex[] eigenvalues, Complex[][] ritz, int k, bool eigenvectors,
        bool converged, Func<int, double> uncertainty)
    {
        // The k-th mode and its conjugate stay together: a pair is never split.
        int count = Math.Min(k, theta.Length);
        if (count < theta.Length && Conjugates(theta[count - 1], theta[count])) count++;
        var lambda = eigenvalues.Take(count).ToArray();
        var vectors = ritz.Take(count).Select(Unit).ToArray();
        // A pair's member with the positive imaginary part first, as LAPACK orders them (1 / (lambda - 1) flips its sign).
        for (int i = 0; i + 1 < count; i++)
            if (lambda[i].Imaginary < 0 && Conjugates(lambda[i], lambda[i + 1]))
            {
                (lambda[i], lambda[i + 1]) = (lambda[i + 1], lambda[i]);
                (vectors[i], vectors[i + 1]) = (vectors[i + 1], vectors[i]);
                i++;
            }
        var residuals = new double[count];
        for (int i = 0; i < count; i++) residuals[i] = Residual(j, lambda[i], vectors[i]);
        // Converged also by J's own residuals: the operator's estimates stop bounding them where B is nearly defective.
        double scale = Frobenius(j);
        converged &= residuals.All(r => r <= ResidualTolerance * Math.Max(1, scale));
        // Mode k is apart from the next candidate when they differ (in distance from 1, or in magnitude) by more than both
        // their uncertainties in J's terms: the larger of the search's bound, the mode's residual and rounding (eps |J|).
        // A residual bounds an eigenvalue's error for a normal J; for others the error can be its condition number times
        // larger, so a gap near the residuals is a near-tie.
        double Key(Complex l) => target == TopTarget.NearestOne ? -Complex.Abs(l - 1) : l.Magnitude;
        double Uncertain(int i)
        {
            double search = uncertainty(i), t = theta[i].Magnitude;
            if (target == TopTarget.NearestOne) search = double.IsPositiveInfinity(t) ? 0 : search / (t * t);   // d lambda = d theta / theta^2
            double residual = i < count ? residuals[i] : i < ritz.Length ? Residual(j, eigenvalues[i], Unit(ritz[i])) : double.PositiveInfinity;
            return Math.Max(search, Math.Max(residual, RoundingTolerance * Math.Max(1, scale)));
        }
        bool separated = count >= theta.Length || Key(eigenvalues[count - 1]) - Key(eigenvalues[count]) > Uncertain(count - 1) + Uncertain(count);
        return new TopEigenResult(lambda, eigenvectors ? vectors : null, residuals, converged, separated);
    }

    /// <summary>b is a's conjugate (the other member of its pair): opposite imaginary parts, and equal to working precision.</summary>
    private static bool Conjugates(Complex a, Complex b) =>
        a.Imaginary * b.Imaginary < 0 && Complex.Abs(b - Complex.Conjugate(a)) <= 1e-9 * a.Magnitude;

    /// <summary>The full decomposition, ordered by the target: for small matrices, and where the LU about 1 is singular.</summary>
    private static TopEigenResult FromFull(double[][] j, int k, TopTarget target, bool eigenvectors, string reason)
    {
        var full = Spectrum.FromMatrices(new[] { j }, EigenSort.None, Vectors.Right)[0];
        var order = Enumerable.Range(0, full.Eigenvalues.Length)
            .OrderByDescending(i => target == TopTarget.NearestOne ? -Complex.Abs(full.Eigenvalues[i] - 1) : full.Eigenvalues[i].Magnitude).ToArray();
        // In the operator's terms (its magnitude decides the order), so that pairs and separation are judged as above; an
        // eigenvalue at 1 exactly is infinitely far out (and comes first), not 1 / 0.
        Complex Theta(Complex l) => target != TopTarget.NearestOne ? l : l == Complex.One ? new Complex(double.PositiveInfinity, 0) : 1 / (l - 1);
        var theta = order.Select(i => Theta(full.Eigenvalues[i])).ToArray();
        var ritz = order.Select(i => full.Eigenvectors![i]).ToArray();
        // LAPACK's eigenvalues are exact to about eps |J|; in the operator's terms (1 / (lambda - 1)) that grows as theta^2.
        double rounding = RoundingTolerance * Math.Max(1, Frobenius(j));
        double Uncertainty(int i) => i >= theta.Length ? double.PositiveInfinity
            : target == TopTarget.NearestOne ? rounding * theta[i].Magnitude * theta[i].Magnitude : rounding;
        return Finish(j, target, theta, order.Select(i => full.Eigenvalues[i]).ToArray(), ritz, k, eigenvectors, converged: true, Uncertainty) with { Method = "Full", Reason = reason };
    }

    /// <summary>
    /// A value shared by several decoupled units, when it ranks with the top modes found (last is the last of them). A unit
    /// is decoupled when its row's entries off the diagonal are all below the unit roundoff of J's largest entry, as at a
    /// saturated gate (a GRU unit with z = 1, an LSTM cell with f = 1 keep their value): its diagonal entry is then an
    /// eigenvalue, and one shared by several rows a repeated one, which a search from one start vector finds once.
    /// </summary>
    private static (int Count, double Value)? RepeatedDecoupled(double[][] j, Complex last, TopTarget target)
    {
        int n = j.Length;
        double largest = j.Max(row => row.Max(Math.Abs)), floor = Spectrum.UnitRoundoff * largest;
        var values = new List<double>();
        for (int i = 0; i < n; i++)
        {
            bool decoupled = true;
            for (int c = 0; c < n && decoupled; c++) decoupled = c == i || Math.Abs(j[i][c]) <= floor;
            if (decoupled) values.Add(j[i][i]);
        }
        double Key(Complex l) => target == TopTarget.NearestOne ? -Complex.Abs(l - 1) : l.Magnitude;
        double same = RoundingTolerance * Math.Max(1, largest);
        // Ranks with the top modes, or nearly: a repeated eigenvalue that is defective splits under rounding by about
        // sqrt(eps |J|), so modes that close to it may be its splinters (a saturated LSTM's "pair" 1 +- 1e-8 i).
        double tie = Math.Sqrt(RoundingTolerance) * Math.Max(1, Frobenius(j));
        values.Sort();
        for (int start = 0, end; start < values.Count; start = end)
        {
            for (end = start + 1; end < values.Count && values[end] - values[end - 1] <= same; end++) { }
            if (end - start > 1 && Key(values[start]) >= Key(last) - tie) return (end - start, values[start]);
        }
        return null;
    }

    private static double Frobenius(double[][] j) => Math.Sqrt(j.Sum(row => VectorMath.Dot(row, row)));

    /// <summary>A real eigenvalue with +0 as its imaginary part (1 + 1 / theta gives -0 for a negative theta).</summary>
    private static Complex WithoutNegativeZero(Complex l) => l.Imaginary == 0 ? new Complex(l.Real, 0) : l;

    /// <summary>No two eigenvalues the same, and every complex one with its conjugate.</summary>
    private static bool Resolved(Complex[] lambda)
    {
        double scale = 1 + lambda.Select(l => l.Magnitude).DefaultIfEmpty(0).Max();
        for (int i = 0; i < lambda.Length; i++)
        {
            for (int t = i + 1; t < lambda.Length; t++)
                if (Complex.Abs(lambda[i] - lambda[t]) <= RepeatedTolerance * scale) return false;
            if (Math.Abs(lambda[i].Imaginary) > RepeatedTolerance * scale &&
                !lambda.Any(l => Complex.Abs(l - Complex.Conjugate(lambda[i])) <= RepeatedTolerance * scale)) return false;
        }
        return true;
    }

    private static Complex[] Unit(Complex[] v)
    {
        double norm = VectorMath.Norm(v);
        return v.Select(x => x / norm).ToArray();
    }

    /// <summary>|J v - lambda v| for a complex v and real J.</summary>
    private static double Residual(double[][] j, Complex lambda, Complex[] v)
    {
        int n = v.Length;
        var re = v.Select(x => x.Real).ToArray();
        var im = v.Select(x => x.Imaginary).ToArray();
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            var jv = new Complex(VectorMath.Dot(j[r], re), VectorMath.Dot(j[r], im));
            sum += (jv - lambda * v[r]).Magnitude * (jv - lambda * v[r]).Magnitude;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// The Krylov-Schur iteration in real arithmetic: U (n x count, orthonormal columns), B (count x count), b and f with
    /// A U = U B + f b'. Ritz values are the eigenvalues of B, largest magnitude first; the residual of Ritz pair (theta, s)
    /// is |f| |b' s|.
    /// </summary>
    private sealed class KrylovSchur
    {
        private readonly int _n, _k, _m, _keep;
        private readonly Action<double[], double[]> _apply;
        private readonly List<double[]> _u = new();
        private double[,] _b;
        private double[] _bRow;
        private double[] _f;
        private double[] _estimates = Array.Empty<double>();
        private double _scale = 1;   // the largest coefficient met: the scale of the breakdown test
        private double _spent;   // operations so far, against the budget

        public KrylovSchur(int n, int k, Action<double[], double[]> apply, double spent)
        {
            _spent = spent;
            (_n, _k, _apply) = (n, k, apply);
            _m = SubspaceSize(n, k);
            _keep = Math.Min(_m - 8, k + Math.Max(6, (_m - k) / 2));
            _b = new double[0, 0];
            _bRow = Array.Empty<double>();
            _f = new double[n];
        }

        /// <summary>The size m the decomposition is extended to before each restart.</summary>
        public static int SubspaceSize(int n, int k) => Math.Min(n - 1, Math.Max(2 * k + 20, k + 32));

        /// <summary>The error bound of Ritz value i of the last round (its residual estimate), for the separation test.</summary>
        public double Uncertainty(int i) => i < _estimates.Length ? _estimates[i] : double.PositiveInfinity;

        public (Complex[] Theta, Complex[][] Vectors, bool Converged) Run()
        {
            var random = new Random(20261130);
            var start = new double[_n];
            for (int i = 0; i < _n; i++) start[i] = FixedPoints.Gaussian(random);
            Normalise(start);
            _u.Add(start);
            _b = new double[_m + 1, _m + 1];
            var w = new double[_n];
            Apply(start, w);
            var h = Orthogonalise(w);
            _b[0, 0] = h[0];
            _f = w;
            _bRow = new double[_m + 1];
            _bRow[0] = 1;
            while (true)
            {
                Extend(random);
                var (theta, s) = RitzPairs();
                double beta = Norm(_f);
                _estimates = s.Select(v => beta * Complex.Abs(Dot(v))).ToArray();

                // Relative to the mode's own magnitude, but not below rounding of the largest one (the operator's scale).
                bool done = Enumerable.Range(0, Math.Min(_k, theta.Length))
                    .All(i => _estimates[i] <= Tolerance * Math.Max(theta[i].Magnitude, 1e-3 * theta[0].Magnitude));
                if (done || _spent >= WorkBudget.EigenFlops(_n))
                    return (theta, s.Take(_k + 2).Select(Lift).ToArray(), done);   // the k wanted, a pair's partner, and the next
                Truncate(theta, s);
            }
        }

        private void Apply(double[] x, double[] y)
        {
            _apply(x, y);
            _spent += 2.0 * _n * _n;
        }

        /// <summary>b' s for a complex s (b real).</summary>
        private Complex Dot(Complex[] s)
        {
            Complex sum = 0;
            for (int i = 0; i < s.Length; i++) sum += _bRow[i] * s[i];
            return sum;
        }

        /// <summary>Arnoldi steps until U has m columns: the new vector is f/|f| (or a random one orthogonal to U where f vanished).</summary>
        private void Extend(Random random)
        {
            while (_u.Count < _m)
            {
                int c = _u.Count;
                double beta = Norm(_f);
                var u = _f;
                if (!(beta > 1e-12 * _scale))
                {
                    // An invariant subspace: the decomposition holds with f = 0; go on from a fresh direction.
                    beta = 0;
                    u = new double[_n];
                    for (int i = 0; i < _n; i++) u[i] = FixedPoints.Gaussian(random);
                    Orthogonalise(u);
                }
                Normalise(u);
                for (int col = 0; col < c; col++) _b[c, col] = beta * _bRow[col];
                _u.Add(u);
                var w = new double[_n];
                Apply(u, w);
                var h = Orthogonalise(w);
                for (int row = 0; row <= c; row++) _b[row, c] = h[row];
                _scale = Math.Max(_scale, h.Max(Math.Abs));
                _f = w;
                Array.Clear(_bRow);
                _bRow[c] = 1;
            }
        }

        /// <summary>Eigenpairs of B, largest magnitude first (unit eigenvectors).</summary>
        private (Complex[] Theta, Complex[][] S) RitzPairs()
        {
            int c = _u.Count;
            var rows = new double[c][];
            for (int r = 0; r < c; r++)
            {
                rows[r] = new double[c];
                for (int col = 0; col < c; col++) rows[r][col] = _b[r, col];
            }
            var eig = Spectrum.FromMatrices(new[] { rows }, EigenSort.None, Vectors.Right)[0];
            _spent += WorkBudget.EigenFlops(c, Vectors.Right);
            // Largest first; ties by the imaginary part's sign, so a pair's positive member comes first.
            var order = Enumerable.Range(0, c).OrderByDescending(i => eig.Eigenvalues[i].Magnitude).ThenByDescending(i => eig.Eigenvalues[i].Imaginary).ToArray();
            return (order.Select(i => eig.Eigenvalues[i]).ToArray(), order.Select(i => eig.Eigenvectors![i]).ToArray());
        }

        /// <summary>Keeps the real invariant subspace of B for the first wanted Ritz values (whole pairs): U := U Q, B := Q' B Q, b := Q' b.</summary>
        private void Truncate(Complex[] theta, Complex[][] s)
        {
            int c = _u.Count;
            // Q: an orthonormal basis (columns, stored as rows of q) of the real and imaginary parts of the kept Ritz vectors.
            var q = new double[_keep + 1][];
            int p = 0;
            for (int i = 0; i < theta.Length && p < _keep; i++)
            {
                if (theta[i].Imaginary < 0) continue;   // the conjugate of one already kept (or about to be)
                AddColumn(q, ref p, s[i], imaginary: false);
                if (theta[i].Imaginary > 0) AddColumn(q, ref p, s[i], imaginary: true);
            }
            _spent += 2.0 * (_n + c) * c * p;   // U Q and Q' B Q
            var u = new List<double[]>(p);
            for (int a = 0; a < p; a++)
            {
                var v = new double[_n];
                for (int i = 0; i < c; i++) VectorMath.MultiplyAdd(_u[i], q[a][i], v);
                u.Add(v);
            }
            // B Q, then Q' (B Q), with B's rows read as spans.
            var bq = new double[p][];
            var row = new double[c];
            for (int a = 0; a < p; a++) bq[a] = new double[c];
            for (int r = 0; r < c; r++)
            {
                for (int i = 0; i < c; i++) row[i] = _b[r, i];
                for (int a = 0; a < p; a++) bq[a][r] = VectorMath.Dot(row, q[a]);
            }
            var b = new double[_m + 1, _m + 1];
            var bRow = new double[_m + 1];
            var oldRow = _bRow.AsSpan(0, c);
            for (int a = 0; a < p; a++)
            {
                for (int col = 0; col < p; col++) b[a, col] = VectorMath.Dot(q[a], bq[col]);
                bRow[a] = VectorMath.Dot(q[a], oldRow);
            }
            _u.Clear();
            _u.AddRange(u);
            (_b, _bRow) = (b, bRow);
        }

        /// <summary>Appends the real or imaginary part of <paramref name="v"/>, orthonormalised against the columns so far (twice), unless it is dependent on them.</summary>
        private static void AddColumn(double[][] q, ref int p, Complex[] v, bool imaginary)
        {
            var x = new double[v.Length];
            for (int i = 0; i < x.Length; i++) x[i] = imaginary ? v[i].Imaginary : v[i].Real;
            for (int pass = 0; pass < 2; pass++)
                for (int a = 0; a < p; a++) VectorMath.MultiplyAdd(q[a], -VectorMath.Dot(x, q[a]), x);
            double norm = VectorMath.Norm(x);
            if (!(norm > 1e-10)) return;
            for (int i = 0; i < x.Length; i++) x[i] /= norm;
            if (p < q.Length) q[p++] = x;
        }

        /// <summary>U s: a Ritz vector of the operator.</summary>
        private Complex[] Lift(Complex[] s)
        {
            var re = new double[_n];
            var im = new double[_n];
            for (int i = 0; i < s.Length; i++)
            {
                VectorMath.MultiplyAdd(_u[i], s[i].Real, re);
                VectorMath.MultiplyAdd(_u[i], s[i].Imaginary, im);
            }
            return re.Select((x, i) => new Complex(x, im[i])).ToArray();
        }

        /// <summary>
        /// w minus its projection on U (classical Gram-Schmidt); the coefficients. A second pass is made where the first
        /// removed most of w (|w| fell below |w_0| / sqrt 2, the DGKS test), which is where one pass loses orthogonality.
        /// </summary>
        private double[] Orthogonalise(double[] w)
        {
            var h = new double[_u.Count];
            var d = new double[_u.Count];
            double before = Norm(w);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int i = 0; i < _u.Count; i++) d[i] = VectorMath.Dot(_u[i], w);
                for (int i = 0; i < _u.Count; i++) { VectorMath.MultiplyAdd(_u[i], -d[i], w); h[i] += d[i]; }
                _spent += 4.0 * _u.Count * _n;
                double after = Norm(w);
                if (after > before / Math.Sqrt(2)) break;
                before = after;
            }
            return h;
        }

        private static double Norm(double[] v) => VectorMath.Norm(v);

        private static void Normalise(double[] v)
        {
            double norm = VectorMath.Norm(v);
            for (int i = 0; i < v.Length; i++) v[i] /= norm;
        }
    }
}

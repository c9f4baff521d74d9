using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// Newton steps n with J_r n = -r (J_r = J - I) for a batch of states, each start reusing the LU factorisation of J_r
/// made at one of its own earlier iterates. Those factors M precondition GMRES on J_r M^-1, which converges in a few
/// iterations where J_r differs from M by little or in few directions (most steps after a start's first Newton step):
/// triangular solves and products with J (S^2 each) instead of an LU (S^3). Rows where GMRES does not converge within
/// <see cref="MaxIterations"/> are factorised afresh. Factors are kept per start and never shared, so a start's result
/// does not depend on which other starts share its batch: shards of the starts join into the one-process result
/// (sharing factors between starts made half as many LUs, but moved some starts to other points). On the 256-unit
/// flip-flop (256 starts): 281 LUs and 1,368 GMRES solves of 4 to 5 iterations instead of 1,655 LUs. Used from
/// <see cref="TrustRegionNewton.FormedBelowSize"/> state values up; below, an LU per step costs less than the GMRES
/// iterations it saves.
/// </summary>
internal sealed class NewtonStepSolver
{
    /// <summary>GMRES iterations before a row is factorised afresh (one costs about a fortieth of an LU at 256 units).</summary>
    internal const int MaxIterations = 20;
    /// <summary>An iteration must leave at most this fraction of the residual, or the row is factorised afresh.</summary>
    private const double Stagnation = 0.95;

    private readonly int _size;
    private readonly float[][] _factors;   // per start: its LU (L unit lower, U upper), row-major, in single precision
    private readonly int[][] _swaps;       // per start: LAPACK's row interchanges (0-based)
    private readonly bool[] _has;

    /// <summary>A solver for the starts 0 .. <paramref name="starts"/> - 1 of a chunk, states of <paramref name="size"/> values.</summary>
    public NewtonStepSolver(int size, int starts)
    {
        _size = size;
        _factors = new float[starts][];
        _swaps = new int[starts][];
        _has = new bool[starts];
    }

    /// <summary>The memory a solver holds, in bytes, for the memory guard.</summary>
    public static double Bytes(int size, int starts) => 4.0 * starts * ((double)size * size + size);

    /// <summary>Rows factorised afresh, and rows solved by GMRES, so far.</summary>
    public int Factorised { get; private set; }
    public int Iterated { get; private set; }

    /// <summary>Drops every start's factors (the next chunk's starts take the slots).</summary>
    public void Forget() => Array.Clear(_has);

    /// <summary>
    /// For the batch rows <paramref name="rows"/> of residuals r, belonging to the starts <paramref name="owners"/>:
    /// the steps n [R, S], their errors e = J_r n + r (at most min(|r|, 1e-2) |r|, or 1e-10 |r|, where GMRES found
    /// them; zero where an LU did, whose error is rounding), and whether each n is usable (1) or not (0: J_r singular
    /// or the step not finite).
    /// </summary>
    public (Tensor N, Tensor E, Tensor Usable) Solve(Tensor r, JacobianOperator jacobian, int[] rows, int[] owners)
    {
        int m = rows.Length;
        var at = Index(rows);
        var rr = r.index_select(0, at);
        var n = torch.zeros_like(rr);
        var usable = Enumerable.Repeat(1.0, m).ToArray();
        var known = Enumerable.Range(0, m).Where(i => _has[owners[i]]).ToArray();
        var fresh = Enumerable.Range(0, m).Where(i => !_has[owners[i]]).ToList();
        int iterated = 0;
        if (known.Length > 0)
        {
            var failed = Krylov(rr, jacobian, rows, owners, known, n);
            fresh.AddRange(failed);
            iterated = known.Length - failed.Length;
            Iterated += iterated;
        }
        // The error of GMRES's steps; an LU's is rounding, taken as zero.
        var e = iterated > 0 ? jacobian.Apply(n, at) - n + rr : torch.zeros_like(rr);
        if (fresh.Count > 0)
        {
            var positions = fresh.Order().ToArray();
            Factorise(rr, jacobian, rows, owners, positions, n, usable);
            if (iterated > 0) e.index_fill_(0, Index(positions), 0.0);
        }
        return (n, e, torch.tensor(usable));
    }

    /// <summary>
    /// Right-preconditioned GMRES from n = 0 for the positions <paramref name="known"/> of the request, all in step,
    /// each preconditioned by its start's factors; converged steps are written to n. Returns the positions that did not
    /// converge.
    /// </summary>
    private int[] Krylov(Tensor r, JacobianOperator jacobian, int[] rows, int[] owners, int[] known, Tensor n)
    {
        int m = known.Length;
        var position = Index(known);
        var at = Index(known.Select(i => rows[i]).ToArray());
        var slots = known.Select(i => owners[i]).ToArray();
        var b = r.index_select(0, position).neg();
        var beta = TensorData.Flat(b.norm(1));
        var problem = beta.Select(v => new LeastSquares(v, Math.Clamp(v, 1e-10, 1e-2) * v, MaxIterations)).ToArray();
        var basis = new List<Tensor> { b / torch.tensor(beta.Select(v => v > 0 ? v : 1).ToArray()).unsqueeze(1) };
        var directions = new List<Tensor>();
        for (int j = 0; j < MaxIterations; j++)
        {
            var active = Enumerable.Range(0, m).Where(i => problem[i].Open).ToArray();
            if (active.Length == 0) break;
            var z = Precondition(basis[j], active, slots);
            directions.Add(z);
            var w = jacobian.Apply(z, at) - z;
            // Classical Gram-Schmidt, twice (as accurate as modified Gram-Schmidt, in batched products).
            var v = torch.stack(basis, 1);
            var h = torch.zeros(m, j + 1, ScalarType.Float64);
            for (int pass = 0; pass < 2; pass++)
            {
                var d = v.bmm(w.unsqueeze(2)).squeeze(2);
                w = w - d.unsqueeze(1).bmm(v).squeeze(1);
                h = h + d;
            }
            var norm = w.norm(1);
            var column = TensorData.Flat(torch.cat(new[] { h, norm.unsqueeze(1) }, 1));
            basis.Add(w / torch.where(norm.gt(0), norm, torch.ones_like(norm)).unsqueeze(1));
            foreach (int i in active) problem[i].Add(column.AsSpan(i * (j + 2), j + 2), Stagnation);
        }
        var done = Enumerable.Range(0, m).Where(i => problem[i].Converged).ToArray();
        if (done.Length > 0 && directions.Count > 0)
        {
            int k = directions.Count;
            var y = new double[done.Length * k];
            for (int d = 0; d < done.Length; d++) problem[done[d]].Solution().CopyTo(y.AsSpan(d * k));
            var steps = TensorData.Aligned(y, done.Length, 1, k).bmm(torch.stack(directions, 1).index_select(0, Index(done))).squeeze(1);
            n.index_copy_(0, Index(done.Select(i => known[i]).ToArray()), steps);
        }
        return Enumerable.Range(0, m).Where(i => !problem[i].Converged).Select(i => known[i]).ToArray();
    }

    /// <summary>
    /// M^-1 v for the rows <paramref name="active"/> (the others zero), each with its start's factors: two triangular
    /// solves here, in single precision. GMRES keeps the preconditioned directions it made (flexible GMRES), so an
    /// inexact preconditioner changes how fast it converges, not what it converges to; single precision halves the
    /// bytes read, which is the cost (a libtorch solve per row also costs its call).
    /// </summary>
    private Tensor Precondition(Tensor v, int[] active, int[] slots)
    {
        int s = _size;
        var values = TensorData.Values(v);
        var result = new double[values.Length];
        var work = new float[s];
        foreach (int i in active)
        {
            for (int k = 0; k < s; k++) work[k] = (float)values[i * s + k];
            LuSolve(_factors[slots[i]], _swaps[slots[i]], work);
            for (int k = 0; k < s; k++) result[i * s + k] = work[k];
        }
        return TensorData.Aligned(result, v.shape);
    }

    /// <summary>Solves L U x = P b in place, for LAPACK's getrf factors (row interchanges applied in order).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void LuSolve(float[] lu, int[] swaps, float[] x)
    {
        int n = x.Length;
        for (int i = 0; i < n; i++)
            if (swaps[i] != i) (x[i], x[swaps[i]]) = (x[swaps[i]], x[i]);
        for (int i = 1; i < n; i++)
            x[i] -= VectorMath.Dot(lu.AsSpan(i * n, i), x.AsSpan(0, i));
        for (int i = n - 1; i >= 0; i--)
            x[i] = (x[i] - VectorMath.Dot(lu.AsSpan(i * n + i + 1, n - i - 1), x.AsSpan(i + 1))) / lu[i * n + i];
    }

    /// <summary>Fresh LUs at the positions given: their steps written to n, their factors kept in their starts' slots.</summary>
    private void Factorise(Tensor r, JacobianOperator jacobian, int[] rows, int[] owners, int[] positions, Tensor n, double[] usable)
    {
        var at = Index(positions);
        var a = jacobian.Matrices(Index(positions.Select(i => rows[i]).ToArray()));
        a.diagonal(0, 1, 2).sub_(1.0);   // J - I in place
        var (lu, pivots, info) = Factorisations(a);
        var solved = linalg.lu_solve(lu, pivots, r.index_select(0, at).neg().unsqueeze(2)).squeeze(2);
        var good = info.eq(0).logical_and(solved.isfinite().all(1));
        var ok = TensorData.Flat(good.to_type(ScalarType.Float64));
        n.index_copy_(0, at, torch.where(good.unsqueeze(1), solved, torch.zeros_like(solved)));
        Factorised += positions.Length;
        for (int k = 0; k < positions.Length; k++) usable[positions[k]] = ok[k];
        var factors = MemoryMarshal.Cast<byte, float>(lu.to_type(ScalarType.Float32).contiguous().bytes);
        var swaps = MemoryMarshal.Cast<byte, int>(pivots.to_type(ScalarType.Int32).contiguous().bytes);
        int s = _size;
        for (int k = 0; k < positions.Length; k++)
        {
            int slot = owners[positions[k]];
            _has[slot] = ok[k] != 0;
            if (ok[k] == 0) continue;
            var f = _factors[slot] ??= new float[s * s];
            factors.Slice(k * s * s, s * s).CopyTo(f);
            var p = _swaps[slot] ??= new int[s];
            for (int e = 0; e < s; e++) p[e] = swaps[k * s + e] - 1;
        }
    }

    /// <summary>
    /// LUs of a batch [B, S, S], one matrix per call: libtorch 2.10's batched LU returns wrong pivots from about 160
    /// units on when it runs on more than one thread (they differ from one matrix's, and lu_solve then refuses them),
    /// and at these sizes a call costs nothing next to its LU.
    /// </summary>
    private static (Tensor Lu, Tensor Pivots, Tensor Info) Factorisations(Tensor a)
    {
        var parts = Enumerable.Range(0, (int)a.shape[0]).Select(k =>
        {
            var (lu, pivots, info) = torch.lu(a.narrow(0, k, 1), true, true);
            return (lu, Pivots: pivots!, Info: info!);   // both asked for
        }).ToArray();
        return (torch.cat(parts.Select(p => p.lu).ToArray(), 0), torch.cat(parts.Select(p => p.Pivots).ToArray(), 0),
            torch.cat(parts.Select(p => p.Info).ToArray(), 0));
    }

    private static Tensor Index(IEnumerable<int> rows) => torch.tensor(rows.Select(k => (long)k).ToArray());

    /// <summary>One row's GMRES least-squares problem min |beta e1 - H y|, kept triangular by Givens rotations as columns arrive.</summary>
    private sealed class LeastSquares(double beta, double tolerance, int capacity)
    {
        private readonly double[,] _r = new double[capacity, capacity];
        private readonly double[] _g = Start(beta, capacity), _c = new double[capacity], _s = new double[capacity];
        private int _columns;
        private bool _failed;

        /// <summary>The residual |J_r n + r| of the current least-squares solution.</summary>
        public double Residual { get; private set; } = beta;
        public bool Converged => Residual <= tolerance;
        public bool Open => !Converged && !_failed && _columns < capacity;

        private static double[] Start(double beta, int capacity)
        {
            var g = new double[capacity + 1];
            g[0] = beta;
            return g;
        }

        /// <summary>Adds Hessenberg column j (h[0..j], then the new basis vector's norm); gives up when the residual fell by less than the factor.</summary>
        public void Add(ReadOnlySpan<double> h, double stagnation)
        {
            int j = _columns;
            var col = h.ToArray();
            for (int i = 0; i < j; i++)
                (col[i], col[i + 1]) = (_c[i] * col[i] + _s[i] * col[i + 1], -_s[i] * col[i] + _c[i] * col[i + 1]);
            double rho = Math.Sqrt(col[j] * col[j] + col[j + 1] * col[j + 1]);
            if (!(rho > 0) || !double.IsFinite(rho)) { _failed = true; return; }   // a singular or broken preconditioned operator
            _columns++;
            _c[j] = col[j] / rho;
            _s[j] = col[j + 1] / rho;
            for (int i = 0; i < j; i++) _r[i, j] = col[i];
            _r[j, j] = rho;
            _g[j + 1] = -_s[j] * _g[j];
            _g[j] *= _c[j];
            double previous = Residual;
            Residual = Math.Abs(_g[j + 1]);
            if (!Converged && Residual > stagnation * previous) _failed = true;
        }

        /// <summary>The coefficients of the directions so far (back substitution in the triangular factor).</summary>
        public double[] Solution()
        {
            var y = new double[_columns];
            for (int i = _columns - 1; i >= 0; i--)
            {
                double sum = _g[i];
                for (int k = i + 1; k < _columns; k++) sum -= _r[i, k] * y[k];
                y[i] = sum / _r[i, i];
            }
            return y;
        }
    }

}

using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>Which eigenvectors a decomposition returns: none, the right ones, or both right and left.</summary>
public enum Vectors { None, Right, Left }

public enum EigenSort
{
    /// <summary>Largest magnitude first (ties keep LAPACK order).</summary>
    Magnitude,
    /// <summary>LAPACK's order, as the seed returns it.</summary>
    None,
}

/// <summary>
/// Eigenvalues of one Jacobian, and optionally its eigenvectors: Eigenvectors[k] belongs to Eigenvalues[k] (column k
/// of V, unit length). LeftEigenvectors[k] is row k of V^-1, so LeftEigenvectors[k] J = lambda_k LeftEigenvectors[k]
/// and sum_i LeftEigenvectors[k][i] Eigenvectors[j][i] = delta_kj (plain products, no conjugation, as renn's eigsorted).
/// </summary>
public sealed class EigenResult
{
    public EigenResult(Complex[] eigenvalues, Complex[][]? eigenvectors, Complex[][]? leftEigenvectors = null)
    {
        Eigenvalues = eigenvalues;
        Eigenvectors = eigenvectors;
        LeftEigenvectors = leftEigenvectors;
        SpectralRadius = eigenvalues.Length == 0 ? 0 : eigenvalues.Max(e => e.Magnitude);
        UnstableCount = eigenvalues.Count(e => e.Magnitude > 1.0);
    }

    public Complex[] Eigenvalues { get; }
    public Complex[][]? Eigenvectors { get; }
    public Complex[][]? LeftEigenvectors { get; }
    public double SpectralRadius { get; }

    /// <summary>Modes that grow under the discrete-time map: |lambda| > 1.</summary>
    public int UnstableCount { get; }
    public bool IsStable => SpectralRadius < 1.0;
}

/// <summary>Eigen decomposition of Jacobians, batched in one linalg.eig call, and per-mode time scales.</summary>
public static class Spectrum
{
    /// <summary>Spectra of the state Jacobians at a batch of states: one linalg.eig call (eigvals without eigenvectors).</summary>
    /// <param name="region">When given, the spectrum of that region's own block of the state Jacobian.</param>
    public static EigenResult[] FromModel(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states,
        EigenSort sort, bool eigenvectors, Precision precision = Precision.Double, UnitRange? region = null) =>
        FromModel(model, inputs, states, sort, eigenvectors ? Vectors.Right : Vectors.None, precision, region, out _);

    /// <summary>As above, with the input Jacobians [B][S][I] (rows narrowed to the region) handed out when <paramref name="vectors"/> is Left.</summary>
    internal static EigenResult[] FromModel(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states,
        EigenSort sort, Vectors vectors, Precision precision, UnitRange? region, out double[][][]? inputJacobians)
    {
        Linearization.CheckBatch(model, inputs, states);
        inputJacobians = null;
        if (states.Count == 0) return Array.Empty<EigenResult>();
        MemoryGuard.Require(MemoryGuard.Matrices(states.Count, model.StateSize, vectors switch { Vectors.None => 3, Vectors.Right => 6, _ => 8 }), $"The spectra of {states.Count} state(s) of {model.StateSize} values");
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (_, jh, jx) = model.Linearize(TensorData.FromRows(inputs, model.InputSize, precision), TensorData.FromRows(states, model.StateSize, precision));
        if (region is not null)
        {
            jh = jh.narrow(1, region.Start, region.Count).narrow(2, region.Start, region.Count);
            jx = jx.narrow(1, region.Start, region.Count);
        }
        if (vectors == Vectors.Left)
        {
            var values = TensorData.Values(jx.to_type(ScalarType.Float64).contiguous());
            int rows = (int)jx.shape[1], columns = (int)jx.shape[2];
            inputJacobians = new double[states.Count][][];
            for (int b = 0; b < states.Count; b++) inputJacobians[b] = TensorData.Split(values.Slice(b * rows * columns, rows * columns), rows, columns);
        }
        return Decompose(jh, sort, vectors);
    }

    /// <summary>Decomposes given square matrices (rows of row arrays); matrices of different sizes are allowed.</summary>
    public static EigenResult[] FromMatrices(IReadOnlyList<double[][]> matrices, EigenSort sort, bool eigenvectors) =>
        FromMatrices(matrices, sort, eigenvectors ? Vectors.Right : Vectors.None);

    public static EigenResult[] FromMatrices(IReadOnlyList<double[][]> matrices, EigenSort sort, Vectors vectors)
    {
        for (int m = 0; m < matrices.Count; m++)
            CheckSquare(matrices[m], m);
        var result = new EigenResult[matrices.Count];
        if (matrices.Count == 0) return result;
        TorchRuntime.EnsureLoaded();
        // One eig call per run of equally sized matrices.
        for (int start = 0; start < matrices.Count;)
        {
            int n = matrices[start].Length, end = start;
            while (end < matrices.Count && matrices[end].Length == n) end++;
            using var scope = torch.NewDisposeScope();
            var rows = new List<double[]>();
            for (int m = start; m < end; m++) rows.AddRange(matrices[m]);
            var batch = TensorData.FromRows(rows, n).view(end - start, n, n);
            Decompose(batch, sort, vectors).CopyTo(result, start);
            start = end;
        }
        return result;
    }

    private static void CheckSquare(double[][]? matrix, int index)
    {
        if (matrix is null || matrix.Length == 0)
            throw new RnnException("JacobianNotSquare", RnnErrorKind.InvalidArgument, $"Matrix {index} is empty.");
        foreach (var row in matrix)
        {
            if (row is null || row.Length != matrix.Length)
                throw new RnnException("JacobianNotSquare", RnnErrorKind.InvalidArgument,
                    $"Matrix {index} has {matrix.Length} rows but a row of {row?.Length ?? 0} values; a Jacobian must be square.");
            Check.Finite(row, $"Matrix {index}");
        }
    }

    private static EigenResult[] Decompose(Tensor jacobians, EigenSort sort, Vectors wanted)
    {
        int batch = (int)jacobians.shape[0], n = (int)jacobians.shape[1];
        jacobians = WithoutNegligible(jacobians);
        bool eigenvectors = wanted != Vectors.None;
        var result = new EigenResult[batch];
        // LAPACK's geev takes one matrix at a time and libtorch loops over a batch on one thread: the batch is
        // split across the configured threads, each part one eig call in its own dispose scope, its results read
        // straight from the tensors (no batch-sized copy, which would land on the large-object heap).
        int parts = Math.Clamp(TorchRuntime.Threads, 1, batch);
        void Part(int p)
        {
            int start = (int)((long)batch * p / parts), end = (int)((long)batch * (p + 1) / parts);
            using var scope = torch.NewDisposeScope();
            var chunk = jacobians.narrow(0, start, end - start);
            Tensor lambdas, vectors = null!;
            if (eigenvectors) (lambdas, vectors) = torch.linalg.eig(chunk);
            else lambdas = torch.linalg.eigvals(chunk);
            var l = TensorData.Values(torch.view_as_real(lambdas));
            var v = eigenvectors ? TensorData.Values(torch.view_as_real(vectors)) : default;
            for (int b = start; b < end; b++)
            {
                var left = wanted == Vectors.Left ? Inverse(vectors.narrow(0, b - start, 1)) : null;
                result[b] = Result(l.Slice(2 * (b - start) * n, 2 * n), eigenvectors ? v.Slice(2 * (b - start) * n * n, 2 * n * n) : default, left, n, sort, eigenvectors);
            }
        }
        if (parts == 1) Part(0);
        else
        {
            try { Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part); }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
        }
        return result;
    }

    /// <summary>
    /// Each matrix with its entries below the unit roundoff of its largest one set to zero. They change no eigenvalue
    /// beyond rounding, but LAPACK's balancing scales their rows by up to 2^300 (saturated gates leave entries of 1e-94
    /// beside ones of 1), and the eigenvectors it scales back lose their digits: |J v - lambda v| of 1e-3 where 1e-15
    /// is due (tests/fixtures/generate_saturated.py).
    /// </summary>
    /// <remarks>In place (the callers' matrices are their own), with the temporaries freed at once: the memory guard counts
    /// three matrices per state for eigenvalues alone.</remarks>
    private static Tensor WithoutNegligible(Tensor matrices)
    {
        if (matrices.requires_grad) matrices = matrices.detach();
        using var magnitude = matrices.abs();
        using var largest = magnitude.amax(new long[] { 1, 2 }, keepdim: true);
        using var floor = largest * UnitRoundoff;
        using var negligible = magnitude < floor;
        return matrices.masked_fill_(negligible, 0);
    }

    internal const double UnitRoundoff = 1.1102230246251565e-16;   // 2^-53: below this of the largest entry, an entry is negligible

    /// <summary>
    /// V^-1 (re, im pairs, row-major) for the left eigenvectors, one matrix per call (libtorch's batched LU is wrong
    /// from about 160 units on several threads). Null where V is singular: a defective Jacobian has no basis of
    /// eigenvectors, and its result has no left eigenvectors (the caller reports it for that state alone).
    /// </summary>
    private static double[]? Inverse(Tensor vectors)
    {
        try
        {
            var values = TensorData.Flat(torch.view_as_real(torch.linalg.inv(vectors[0])));
            return values.All(double.IsFinite) ? values : null;
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or ArgumentException) { return null; }
    }

    /// <summary>The error for a state whose Jacobian has no basis of eigenvectors, so no left eigenvectors.</summary>
    public static RnnException Defective(long index) => new("JacobianDefective", RnnErrorKind.InvalidData,
        $"The Jacobian at state {index} has no basis of eigenvectors (it is defective to working precision), so it has no left eigenvectors.");

    /// <summary>One matrix's result from its eigenvalues (re, im pairs), row-major eigenvector matrix (columns are vectors) and its inverse.</summary>
    private static EigenResult Result(ReadOnlySpan<double> values, ReadOnlySpan<double> vectors, double[]? inverse, int n, EigenSort sort, bool eigenvectors)
    {
        var lambda = new Complex[n];
        for (int k = 0; k < n; k++)
            lambda[k] = new Complex(values[2 * k], values[2 * k + 1]);
        var order = Enumerable.Range(0, n).ToArray();
        if (sort == EigenSort.Magnitude)
            order = order.OrderByDescending(k => lambda[k].Magnitude).ToArray();   // stable: ties keep LAPACK order
        Complex[][]? vecs = null;
        if (eigenvectors)
        {
            vecs = new Complex[n][];
            for (int k = 0; k < n; k++)
            {
                var column = vecs[k] = new Complex[n];
                for (int i = 0; i < n; i++)
                {
                    int at = 2 * (i * n + order[k]);
                    column[i] = new Complex(vectors[at], vectors[at + 1]);
                }
            }
        }
        Complex[][]? left = null;
        if (inverse is not null)
        {
            left = new Complex[n][];
            for (int k = 0; k < n; k++)
            {
                var row = left[k] = new Complex[n];
                for (int i = 0; i < n; i++)
                {
                    int at = 2 * (order[k] * n + i);
                    row[i] = new Complex(inverse[at], inverse[at + 1]);
                }
            }
        }
        return new EigenResult(order.Select(k => lambda[k]).ToArray(), vecs, left);
    }

    /// <summary>
    /// Real unit vectors spanning the unstable subspace (|lambda| &gt; 1) of the S x S matrix <paramref name="jacobian"/>,
    /// one per unstable mode: the eigenvector of a real eigenvalue; for a complex pair, the real and the imaginary part
    /// of the eigenvector of the one with positive angle. By inverse iteration at each unstable eigenvalue (a saddle
    /// has few): one factorisation each, instead of every eigenvector (about 25 S^3 operations). A complex shift is
    /// solved in the real form [[J - aI, bI], [-bI, J - aI]] of size 2S.
    /// </summary>
    public static double[][] UnstableBasis(double[][] jacobian, IReadOnlyList<Complex> eigenvalues)
    {
        int n = jacobian.Length;
        var basis = new List<double[]>();
        foreach (var lambda in eigenvalues)
        {
            if (lambda.Magnitude <= 1.0 || lambda.Imaginary < 0) continue;
            // Shifted just off the eigenvalue, so the solve is defined and amplifies its eigenvector by about 1e10 a step.
            double a = lambda.Real + 1e-10 * lambda.Magnitude, b = lambda.Imaginary;
            bool complex = b > 0;
            int size = complex ? 2 * n : n;
            var m = new double[size * size];
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++)
                {
                    double shifted = jacobian[i][k] - (i == k ? a : 0);
                    m[i * size + k] = shifted;
                    if (complex) m[(n + i) * size + n + k] = shifted;
                }
            if (complex)
                for (int i = 0; i < n; i++) (m[i * size + n + i], m[(n + i) * size + i]) = (b, -b);
            // A shifted matrix singular to working precision gives no vector (the shift is 1e-10 |lambda|: it takes an exact eigenvalue).
            if (InverseIteration(m, size) is not { } v) continue;
            if (!complex) { basis.Add(Unit(v)); continue; }
            // The eigenvector is re + i im up to a phase; any phase gives two vectors that span the same plane.
            basis.Add(Unit(v[..n]));
            basis.Add(Unit(v[n..]));
        }
        return basis.ToArray();

        static double[] Unit(double[] x)
        {
            double norm = Math.Sqrt(x.Sum(e => e * e));
            return norm > 0 ? x.Select(e => e / norm).ToArray() : x;
        }
    }

    /// <summary>
    /// Three steps of inverse iteration with the size x size matrix m (row-major, overwritten) from a vector not
    /// orthogonal to any eigenvector in practice; null when m is singular to working precision. Below <see cref="DenseLu.LibTorchFromSize"/> unknowns in managed code
    /// (a libtorch call costs more than the factorisation there), else by libtorch's LU.
    /// </summary>
    private static double[]? InverseIteration(double[] m, int size)
    {
        var x = Enumerable.Range(0, size).Select(i => 1 + (size > 1 ? i / (size - 1.0) : 0)).ToArray();
        if (size < DenseLu.LibTorchFromSize)
        {
            var swaps = new int[size];
            if (!DenseLu.Factor(m, size, swaps)) return null;
            for (int step = 0; step < 3; step++)
            {
                DenseLu.Solve(m, size, swaps, x);
                double norm = VectorMath.Norm(x);
                for (int i = 0; i < size; i++) x[i] /= norm;
            }
            return x;
        }
        using var scope = torch.NewDisposeScope();
        var (lu, pivots) = torch.linalg.lu_factor(TensorData.Aligned(m, size, size));
        var v = TensorData.Aligned(x, size, 1);
        for (int step = 0; step < 3; step++)
        {
            v = torch.linalg.lu_solve(lu, pivots!, v);
            v /= torch.linalg.vector_norm(v);
        }
        var values = TensorData.Flat(v);
        return values.All(double.IsFinite) ? values : null;
    }

    /// <summary>The longest decaying time constant in steps (the largest positive one); NaN when no mode decays.</summary>
    public static double SlowestTimeConstant(IEnumerable<Complex> eigenvalues) =>
        eigenvalues.Select(TimeConstant).Where(t => t > 0).DefaultIfEmpty(double.NaN).Max();

    /// <summary>-1 / ln|lambda| steps: the e-folding time of the mode; +infinity at |lambda| = 1, negative for growing modes.</summary>
    public static double TimeConstant(Complex lambda)
    {
        double log = Math.Log(lambda.Magnitude);
        return log == 0 ? double.PositiveInfinity : -1.0 / log;
    }

    /// <summary>
    /// ln(lambda) / dt: the rate of the continuous-time mode whose flow over one step dt is lambda (real part -1/tau,
    /// imaginary part the angular frequency); for a leaky network with small alpha, close to (lambda - 1) / dt, the
    /// eigenvalue of the differential equation it discretises. -infinity real part for lambda = 0.
    /// </summary>
    public static Complex Continuous(Complex lambda, double dt) => Complex.Log(lambda) / dt;

    /// <summary>2 pi / |angle| steps; +infinity for a real positive eigenvalue.</summary>
    public static double Period(Complex lambda)
    {
        double angle = Math.Abs(lambda.Phase);
        return angle == 0 ? double.PositiveInfinity : 2 * Math.PI / angle;
    }
}

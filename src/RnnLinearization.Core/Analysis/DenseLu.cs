using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace RnnLinearization.Core;

/// <summary>
/// LU with partial pivoting of one small dense matrix (row-major), in managed code: below a few dozen units a
/// libtorch call costs more than the factorisation, and a loop over many small systems pays that cost per call.
/// The loops read through references, unchecked: the bounds are checked once, on entry.
/// </summary>
internal static class DenseLu
{
    /// <summary>
    /// From this many unknowns on, libtorch's LU (a LAPACK kernel) is used instead: the fixed-point search measured the
    /// crossover (<see cref="TrustRegionNewton.FormedBelowSize"/>).
    /// </summary>
    internal const int LibTorchFromSize = TrustRegionNewton.FormedBelowSize;

    /// <summary>
    /// Factorises the n x n matrix a in place (L unit lower, U upper) with row interchanges in <paramref name="swaps"/>
    /// (row i was swapped with swaps[i], in order). False when a pivot is zero or not finite (singular to working precision).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Factor(Span<double> a, int n, Span<int> swaps)
    {
        if (a.Length < n * n || swaps.Length < n) throw new ArgumentException($"An LU of {n} x {n} needs {n * n} values and {n} swaps.");
        ref double m = ref MemoryMarshal.GetReference(a);
        for (int p = 0; p < n; p++)
        {
            int best = p;
            double largest = Math.Abs(Unsafe.Add(ref m, p * n + p));
            for (int i = p + 1; i < n; i++)
            {
                double v = Math.Abs(Unsafe.Add(ref m, i * n + p));
                if (v > largest) (best, largest) = (i, v);
            }
            swaps[p] = best;
            double pivot = Unsafe.Add(ref m, best * n + p);
            if (pivot == 0 || !double.IsFinite(pivot)) return false;
            if (best != p)
                for (int j = 0; j < n; j++)
                    (Unsafe.Add(ref m, p * n + j), Unsafe.Add(ref m, best * n + j)) = (Unsafe.Add(ref m, best * n + j), Unsafe.Add(ref m, p * n + j));
            ref double row = ref Unsafe.Add(ref m, p * n + p + 1);
            int length = n - p - 1;
            for (int i = p + 1; i < n; i++)
            {
                ref double target = ref Unsafe.Add(ref m, i * n + p);
                double l = target /= pivot;
                if (l != 0) MultiplyAdd(ref row, -l, ref Unsafe.Add(ref target, 1), length);
            }
        }
        return true;
    }

    /// <summary>Solves A x = b in place from <see cref="Factor"/>'s result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Solve(ReadOnlySpan<double> lu, int n, ReadOnlySpan<int> swaps, Span<double> x)
    {
        if (lu.Length < n * n || swaps.Length < n || x.Length < n) throw new ArgumentException($"A solve of {n} x {n} needs {n * n} values, {n} swaps and {n} unknowns.");
        for (int i = 0; i < n; i++)
            if (swaps[i] != i) (x[i], x[swaps[i]]) = (x[swaps[i]], x[i]);
        ref double m = ref MemoryMarshal.GetReference(lu);
        ref double v = ref MemoryMarshal.GetReference(x);
        for (int i = 1; i < n; i++)
            Unsafe.Add(ref v, i) -= Dot(ref Unsafe.Add(ref m, i * n), ref v, i);
        for (int i = n - 1; i >= 0; i--)
            Unsafe.Add(ref v, i) = (Unsafe.Add(ref v, i) - Dot(ref Unsafe.Add(ref m, i * n + i + 1), ref Unsafe.Add(ref v, i + 1), n - i - 1)) / Unsafe.Add(ref m, i * n + i);
    }

    // The LU's own kernels, on refs and inlined into its loops (VectorMath's span versions give the same numbers, but a
    // call per row costs a tenth of a small factorisation).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd(ref double source, double factor, ref double destination, int length)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<double>(factor);
            for (; i <= length - Vector<double>.Count; i += Vector<double>.Count)
            {
                ref double d = ref Unsafe.Add(ref destination, i);
                Unsafe.WriteUnaligned(ref Unsafe.As<double, byte>(ref d),
                    Unsafe.ReadUnaligned<Vector<double>>(ref Unsafe.As<double, byte>(ref d)) + f * Unsafe.ReadUnaligned<Vector<double>>(ref Unsafe.As<double, byte>(ref Unsafe.Add(ref source, i))));
            }
        }
        for (; i < length; i++) Unsafe.Add(ref destination, i) += factor * Unsafe.Add(ref source, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Dot(ref double a, ref double b, int length)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; i <= length - Vector<double>.Count; i += Vector<double>.Count)
                acc += Unsafe.ReadUnaligned<Vector<double>>(ref Unsafe.As<double, byte>(ref Unsafe.Add(ref a, i)))
                    * Unsafe.ReadUnaligned<Vector<double>>(ref Unsafe.As<double, byte>(ref Unsafe.Add(ref b, i)));
            sum = Vector.Sum(acc);
        }
        for (; i < length; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }
}

/// <summary>
/// One square system factorised once and solved as often as needed: by <see cref="DenseLu"/> below
/// <see cref="DenseLu.LibTorchFromSize"/> unknowns, by libtorch's LU (one matrix per call) from there on.
/// </summary>
internal sealed class Factorisation : IDisposable
{
    private readonly int _n;
    private readonly double[]? _lu;
    private readonly int[]? _swaps;
    private readonly torch.Tensor? _factor, _pivots;

    private Factorisation(int n, double[]? lu, int[]? swaps, torch.Tensor? factor, torch.Tensor? pivots, int sign, double pivotRatio)
    {
        (_n, _lu, _swaps, _factor, _pivots, DeterminantSign, PivotRatio) = (n, lu, swaps, factor, pivots, sign, pivotRatio);
    }

    /// <summary>The sign of the determinant: +1 or -1.</summary>
    public int DeterminantSign { get; }

    /// <summary>The smallest pivot's magnitude over the largest's: near zero, the matrix is singular to working precision.</summary>
    public double PivotRatio { get; }

    private static double Ratio(IEnumerable<double> pivots)
    {
        double min = double.PositiveInfinity, max = 0;
        foreach (var p in pivots) { min = Math.Min(min, Math.Abs(p)); max = Math.Max(max, Math.Abs(p)); }
        return max > 0 ? min / max : 0;
    }

    /// <summary>The LU of the n x n row-major matrix a (overwritten); null when it is singular to working precision.</summary>
    public static Factorisation? Of(double[] a, int n)
    {
        if (n < DenseLu.LibTorchFromSize)
        {
            var swaps = new int[n];
            if (!DenseLu.Factor(a, n, swaps)) return null;
            int sign = 1;
            for (int i = 0; i < n; i++) if (swaps[i] != i ^ a[i * n + i] < 0) sign = -sign;
            return new Factorisation(n, a, swaps, null, null, sign, Ratio(Enumerable.Range(0, n).Select(i => a[i * n + i])));
        }
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        torch.Tensor lu, pivots;
        // libtorch checks the factorisation and throws for an exactly singular matrix: singular, as the managed LU says.
        try { (lu, pivots) = torch.linalg.lu_factor(TensorData.Aligned(a, n, n)); }
        catch (System.Runtime.InteropServices.ExternalException) { return null; }
        var diagonal = TensorData.Flat(lu.diagonal());
        var order = pivots.to_type(torch.ScalarType.Int64).data<long>().ToArray();
        if (diagonal.Any(d => d == 0 || !double.IsFinite(d))) return null;
        int s = 1;
        for (int i = 0; i < n; i++) if (order[i] != i + 1 ^ diagonal[i] < 0) s = -s;   // LAPACK's pivots count from 1
        return new Factorisation(n, null, null, lu.DetachFromDisposeScope(), pivots.DetachFromDisposeScope(), s, Ratio(diagonal));
    }

    /// <summary>
    /// The factors in managed arrays, for many solves in a row: a libtorch solve costs a call and two tensors each time,
    /// several times the arithmetic at a few hundred unknowns.
    /// </summary>
    public Factorisation Managed()
    {
        if (_lu is not null) return this;
        using var scope = torch.NewDisposeScope();
        var lu = TensorData.Flat(_factor!.to_type(torch.ScalarType.Float64).contiguous());
        var swaps = _pivots!.to_type(torch.ScalarType.Int64).data<long>().Select(p => (int)p - 1).ToArray();   // LAPACK counts from 1
        return new Factorisation(_n, lu, swaps, null, null, DeterminantSign, PivotRatio);
    }

    /// <summary>Solves A x = b in place.</summary>
    public void Solve(double[] b)
    {
        if (_lu is not null) { DenseLu.Solve(_lu, _n, _swaps!, b); return; }
        using var scope = torch.NewDisposeScope();
        TensorData.Values(torch.linalg.lu_solve(_factor!, _pivots!, TensorData.Aligned(b, _n, 1))).CopyTo(b);
    }

    public void Dispose()
    {
        _factor?.Dispose();
        _pivots?.Dispose();
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnLinearization.Core;

/// <summary>
/// The vector arithmetic of the analyses, in one place: destination = source * factor and dot products vectorised (the
/// inner loops of the closed-form Jacobians and of small dense solves), norms and distances.
/// </summary>
internal static class VectorMath
{
    // Optimised from the first call: under tiered compilation a fresh process would otherwise run this (and any
    // library equivalent, which relies on inlining) unoptimised through its first hundred thousand rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<double> source, double factor, Span<double> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<double>.Count)
        {
            var f = new Vector<double>(factor);
            var src = MemoryMarshal.Cast<double, Vector<double>>(source);
            var dst = MemoryMarshal.Cast<double, Vector<double>>(destination);
            for (int v = 0; v < src.Length; v++) dst[v] = src[v] * f;
            i = src.Length * Vector<double>.Count;
        }
        for (; i < source.Length; i++) destination[i] = source[i] * factor;
    }

    /// <summary>destination += source * factor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<double> source, double factor, Span<double> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<double>.Count)
        {
            var f = new Vector<double>(factor);
            var src = MemoryMarshal.Cast<double, Vector<double>>(source);
            var dst = MemoryMarshal.Cast<double, Vector<double>>(destination);
            for (int v = 0; v < src.Length; v++) dst[v] += src[v] * f;
            i = src.Length * Vector<double>.Count;
        }
        for (; i < source.Length; i++) destination[i] += source[i] * factor;
    }

    /// <summary>The dot product a . b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<double>.Count)
        {
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
            var acc = Vector<double>.Zero;
            for (int v = 0; v < va.Length; v++) acc += va[v] * vb[v];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<double>.Count;
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>The dot product in float (the preconditioner of the Newton steps runs in float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0;
        float sum = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && a.Length >= 2 * System.Numerics.Vector<float>.Count)
        {
            var va = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(a);
            var vb = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(b);
            var acc = System.Numerics.Vector<float>.Zero;
            for (int k = 0; k < va.Length; k++) acc += va[k] * vb[k];
            sum = System.Numerics.Vector.Sum(acc);
            i = va.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>The Euclidean norm |v|.</summary>
    public static double Norm(ReadOnlySpan<double> v) => Math.Sqrt(Dot(v, v));

    /// <summary>The Euclidean norm of a complex vector, sqrt(sum |v_i|^2).</summary>
    public static double Norm(Complex[] v) => Math.Sqrt(v.Sum(x => x.Real * x.Real + x.Imaginary * x.Imaginary));

    /// <summary>The Euclidean distance between two states.</summary>
    public static double Distance(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }
}

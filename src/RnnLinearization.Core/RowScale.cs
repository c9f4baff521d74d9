using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnLinearization.Core;

/// <summary>destination = source * factor, vectorised: the inner loop of the closed-form Jacobians.</summary>
internal static class RowScale
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
}

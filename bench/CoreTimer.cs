// Compiled by bench/Invoke-Benchmark.ps1 (Add-Type) against the built module: times the core API without
// PowerShell in the loop. Each function returns seconds per state; results are consumed as a caller would.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using RnnLinearization.Core;

public static class CoreTimer
{
    private static IEnumerable<(double[][] X, double[][] H)> Chunks(double[][] x, double[][] h, int size)
    {
        for (int s = 0; s < h.Length; s += size)
        {
            int n = Math.Min(size, h.Length - s);
            yield return (x[s..(s + n)], h[s..(s + n)]);
        }
    }

    /// <summary>Jacobians as the arrays handed out (what the cmdlet emits), each read once.</summary>
    public static double JacobianArrays(RnnModel m, double[][] x, double[][] h, int batch)
    {
        long sink = 0;
        var sw = Stopwatch.StartNew();
        foreach (var (cx, ch) in Chunks(x, h, batch))
            foreach (var r in Linearization.Jacobians(m, cx, ch)) sink += r.StateJacobian.Length;
        GC.KeepAlive(sink);
        return sw.Elapsed.TotalSeconds / h.Length;
    }

    /// <summary>Jacobians written into reused buffers (JacobianBatch.CopyTo).</summary>
    public static double JacobianBuffers(RnnModel m, double[][] x, double[][] h, int batch)
    {
        int s = m.StateSize, n = m.InputSize;
        double[] next = new double[s], jh = new double[s * s], jx = new double[s * n];
        var sw = Stopwatch.StartNew();
        foreach (var (cx, ch) in Chunks(x, h, batch))
        {
            var r = Linearization.Jacobians(m, cx, ch);
            for (int i = 0; i < r.Count; i++) r.CopyTo(i, next, jh, jx);
        }
        return sw.Elapsed.TotalSeconds / h.Length;
    }

    /// <summary>
    /// The floor under "arrays handed out": per state, allocate fresh rows as JacobianBatch does and fill them with a
    /// constant, with no tensor work and no arithmetic. What is left above it is the analysis.
    /// </summary>
    public static double AllocationFloor(int stateSize, int inputSize, int states)
    {
        long sink = 0;
        var sw = Stopwatch.StartNew();
        for (int b = 0; b < states; b++)
        {
            var jh = new double[stateSize][];
            var jx = new double[stateSize][];
            for (int i = 0; i < stateSize; i++)
            {
                Array.Fill(jh[i] = GC.AllocateUninitializedArray<double>(stateSize), 1.0);
                Array.Fill(jx[i] = GC.AllocateUninitializedArray<double>(inputSize), 1.0);
            }
            sink += jh.Length + jx.Length;
        }
        GC.KeepAlive(sink);
        return sw.Elapsed.TotalSeconds / states;
    }

    public static double Eigen(RnnModel m, double[][] x, double[][] h, int batch, bool vectors)
    {
        var sw = Stopwatch.StartNew();
        foreach (var (cx, ch) in Chunks(x, h, batch)) Spectrum.FromModel(m, cx, ch, EigenSort.Magnitude, vectors);
        return sw.Elapsed.TotalSeconds / h.Length;
    }

    public static double Taylor(RnnModel m, double[][] x, double[][] h, double[] dx, double[][] dh, int batch)
    {
        var sw = Stopwatch.StartNew();
        foreach (var (cx, ch) in Chunks(x, h, batch)) Linearization.Taylor(m, cx, ch, dx, dh, false);
        return sw.Elapsed.TotalSeconds / h.Length;
    }
}

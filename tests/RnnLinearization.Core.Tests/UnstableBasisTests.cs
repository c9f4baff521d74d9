using System.Numerics;
using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>Unstable modes against closed-form math: a matrix built from known eigenvectors (J = P D P^-1).</summary>
public class UnstableBasisTests
{
    [Theory]
    [InlineData(5)]     // managed LUs
    [InlineData(130)]   // libtorch's (DenseLu.LibTorchFromSize)
    public void SpansTheKnownUnstableSubspace(int size)
    {
        // D: a growing real mode (1.5), a growing rotation (1.1 +- 0.6i, block [[1.1, -0.6], [0.6, 1.1]]) and two decaying
        // modes (0.5, -0.3); P mixes the coordinates, so the unstable subspace is span{P e0, P e1, P e2}.
        double[,] d = { { 1.5, 0, 0, 0, 0 }, { 0, 1.1, -0.6, 0, 0 }, { 0, 0.6, 1.1, 0, 0 }, { 0, 0, 0, 0.5, 0 }, { 0, 0, 0, 0, -0.3 } };
        double[,] p = { { 1, 0.2, 0, 0.1, 0 }, { 0, 1, 0.3, 0, 0.2 }, { 0.1, 0, 1, 0.4, 0 }, { 0, 0.2, 0, 1, 0.1 }, { 0.3, 0, 0.1, 0, 1 } };
        var pInverse = Invert(p);
        var j = Multiply(Multiply(p, d), pInverse);
        // Beyond 5 units, decaying modes 0.2 on coordinates of their own (J block-diagonal).
        var jacobian = Enumerable.Range(0, size).Select(i => Enumerable.Range(0, size).Select(k => i < 5 && k < 5 ? j[i, k] : i == k ? 0.2 : 0).ToArray()).ToArray();
        var eigenvalues = new[] { new Complex(1.5, 0), new Complex(1.1, 0.6), new Complex(1.1, -0.6), new Complex(0.5, 0), new Complex(-0.3, 0) }
            .Concat(Enumerable.Repeat(new Complex(0.2, 0), size - 5)).ToArray();

        var basis = Spectrum.UnstableBasis(jacobian, eigenvalues);

        Assert.Equal(3, basis.Length);
        foreach (var v in basis)
        {
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 12);
            // In span{P e0, P e1, P e2}: the coordinates P^-1 v have no part along e3 and e4, and v none beyond 5 units.
            var c = Enumerable.Range(0, 5).Select(i => Enumerable.Range(0, 5).Sum(k => pInverse[i, k] * v[k])).ToArray();
            Assert.True(Math.Abs(c[3]) < 1e-10 && Math.Abs(c[4]) < 1e-10, $"outside the unstable subspace: {c[3]}, {c[4]}");
            Assert.All(v.Skip(5), x => Assert.True(Math.Abs(x) < 1e-10));
        }
        // The real mode's vector is P e0 itself (up to sign).
        var e0 = Enumerable.Range(0, 5).Select(i => p[i, 0]).ToArray();
        double n0 = Math.Sqrt(e0.Sum(x => x * x));
        Assert.Equal(1.0, Math.Abs(basis[0].Zip(e0, (a, b) => a * b / n0).Sum()), 10);
        // A stable matrix has none.
        Assert.Empty(Spectrum.UnstableBasis(jacobian, new[] { new Complex(0.5, 0), new Complex(-0.3, 0) }));
        Assert.True(size < DenseLu.LibTorchFromSize == (size == 5));
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0);
        var c = new double[n, n];
        for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) for (int m = 0; m < n; m++) c[i, k] += a[i, m] * b[m, k];
        return c;
    }

    private static double[,] Invert(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++) { for (int k = 0; k < n; k++) m[i, k] = a[i, k]; m[i, n + i] = 1; }
        for (int col = 0; col < n; col++)
        {
            int pivot = Enumerable.Range(col, n - col).OrderByDescending(r => Math.Abs(m[r, col])).First();
            for (int k = 0; k < 2 * n; k++) (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            double diag = m[col, col];
            for (int k = 0; k < 2 * n; k++) m[col, k] /= diag;
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double f = m[r, col];
                for (int k = 0; k < 2 * n; k++) m[r, k] -= f * m[col, k];
            }
        }
        var inv = new double[n, n];
        for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) inv[i, k] = m[i, n + k];
        return inv;
    }
}

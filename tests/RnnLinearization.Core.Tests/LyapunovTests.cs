using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>The t quantile behind the Lyapunov intervals, against closed forms.</summary>
public class LyapunovTests
{
    [Fact]
    public void TheStudentQuantileMatchesItsClosedForms()
    {
        // t(0.975, 1) = tan(pi (0.975 - 1/2)); t(0.975, 2) = (2p - 1) / sqrt(2 p (1 - p)); t(0.975, inf) = the normal's 1.959964.
        Assert.Equal(Math.Tan(Math.PI * 0.475), Lyapunov.StudentT975(1), 8);
        const double p = 0.975;
        Assert.Equal((2 * p - 1) / Math.Sqrt(2 * p * (1 - p)), Lyapunov.StudentT975(2), 8);
        Assert.InRange(Lyapunov.StudentT975(1_000_000) - 1.959963984540054, 0, 1e-5);
        // Past the table, the expansion against the standard table's values (to their 6 decimals), and falling with df.
        foreach (var (df, t) in new[] { (31, 2.039513), (40, 2.021075), (60, 2.000298), (120, 1.979930) })
            Assert.InRange(Math.Abs(Lyapunov.StudentT975(df) - t), 0, 2e-6);
        for (int df = 1; df < 200; df++) Assert.True(Lyapunov.StudentT975(df) > Lyapunov.StudentT975(df + 1), $"df {df}");
        Assert.True(double.IsNaN(Lyapunov.StudentT975(0)));
    }
}

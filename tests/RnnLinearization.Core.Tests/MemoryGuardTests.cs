using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>Requests beyond the memory limit fail before allocating, with the number they would need (a lowered limit, on this thread only).</summary>
public class MemoryGuardTests
{
    private static T WithLimit<T>(long bytes, Func<T> work)
    {
        MemoryGuard.LimitForTests = bytes;
        try { return work(); }
        finally { MemoryGuard.LimitForTests = null; }
    }

    [Fact]
    public void JacobiansAndSpectraBeyondTheLimitAreRefusedWithTheirSize()
    {
        var model = ModelFactory.Create(Architecture.Rnn, 2, 64, 1, Nonlinearity.Tanh, true, 1);
        var states = Enumerable.Range(0, 100).Select(_ => new double[64]).ToArray();
        var inputs = Enumerable.Range(0, 100).Select(_ => new double[2]).ToArray();
        // 100 Jacobians of 64 x 64 doubles, three copies: 3 * 8 * 100 * 4096 bytes = 9.375 MB.
        var ex = WithLimit(1 << 20, () => Assert.Throws<RnnException>(() => Linearization.Jacobians(model, inputs, states)));
        Assert.Equal("InsufficientMemory", ex.ErrorId);
        Assert.Equal(RnnErrorKind.ResourceUnavailable, ex.Kind);
        Assert.Contains("needs about 9.4 MB", ex.Message);
        Assert.Contains("1 MB", ex.Message);
        // With eigenvectors, six copies: 18.75 MB.
        var spectra = WithLimit(1 << 20, () => Assert.Throws<RnnException>(() => Spectrum.FromModel(model, inputs, states, EigenSort.Magnitude, eigenvectors: true)));
        Assert.Contains("needs about 18.8 MB", spectra.Message);
        // Under the limit the same call works.
        Assert.Equal(100, WithLimit(64 << 20, () => Linearization.Jacobians(model, inputs, states)).Count);
    }

    [Fact]
    public void ANetworkBeyondTheLimitIsNotCreated()
    {
        var ex = WithLimit(1 << 20, () => Assert.Throws<RnnException>(() => ModelFactory.Create(Architecture.Lstm, 3, 512, 2, Nonlinearity.Tanh, true, 1)));
        Assert.Equal("InsufficientMemory", ex.ErrorId);
        Assert.Contains("Lstm of 2 layer(s) of 512 units", ex.Message);
    }
}

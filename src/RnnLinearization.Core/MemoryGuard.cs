namespace RnnLinearization.Core;

/// <summary>
/// Refuses work that would need more memory than the machine has, before allocating any of it: a request that
/// cannot fit fails with the number it would need, instead of ending the process when the allocation fails.
/// </summary>
public static class MemoryGuard
{
    /// <summary>For tests: a smaller limit than the machine's, on the calling thread only (tests run side by side).</summary>
    [ThreadStatic] private static long? _limitForTests;
    internal static long? LimitForTests { get => _limitForTests; set => _limitForTests = value; }

    /// <summary>The memory this process may use: the machine's, or the container's limit (as the GC sees it).</summary>
    public static long Available => LimitForTests ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Throws InsufficientMemory when <paramref name="bytes"/> is more than is available.</summary>
    public static void Require(double bytes, string what)
    {
        long available = Available;
        if (available > 0 && bytes > available)
            throw new RnnException("InsufficientMemory", RnnErrorKind.ResourceUnavailable,
                $"{what} needs about {Size(bytes)}, more than the {Size(available)} of memory this machine has.");
    }

    /// <summary>The memory of <paramref name="count"/> S x S matrices of doubles, with the copies a computation makes (tensor and result).</summary>
    public static double Matrices(long count, long size, int copies = 3) => 8.0 * copies * count * size * size;

    internal static string Size(double bytes) =>
        bytes >= 1L << 40 ? $"{bytes / (1L << 40):#,0.#} TB" : bytes >= 1 << 30 ? $"{bytes / (1 << 30):0.#} GB" : bytes >= 1 << 20 ? $"{bytes / (1 << 20):0.#} MB" : $"{bytes / 1024:0.#} KB";
}

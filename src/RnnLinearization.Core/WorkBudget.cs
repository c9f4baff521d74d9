namespace RnnLinearization.Core;

/// <summary>
/// How much one piece of work may take, in one place. Long work is cut into pieces of bounded cost, so that Core's
/// check of its cancellation token between pieces answers Stop within about a second, and memory stays near a fixed
/// size whatever the state size S. No result depends on where the pieces are cut.
/// </summary>
public static class WorkBudget
{
    /// <summary>Floating-point operations of one batch of states in the state-analysis cmdlets: about a second on one core.</summary>
    public const double StateBatchFlops = 4e9;

    /// <summary>Bytes of S x S matrices one batch of states in the state-analysis cmdlets may hold (64 states at S = 1,024).</summary>
    public const long StateBatchBytes = 512L << 20;

    /// <summary>Floating-point operations of one chunk of Newton searches, at about S^3 per start and iteration.</summary>
    public const double NewtonChunkFlops = 1e9;

    /// <summary>Floating-point operations of one batch of eigendecompositions, at about 10 S^3 each.</summary>
    public const double SpectrumBatchFlops = 2e9;

    /// <summary>Bytes of formed Jacobians (8 S^2 each) that one chunk of certified searches may hold.</summary>
    public const long JacobianChunkBytes = 64L << 20;

    /// <summary>Bytes of states (8 S each) in one tensor batch of flow-field grid points.</summary>
    public const long GridChunkBytes = 32L << 20;

    /// <summary>The operations of an eigendecomposition of an S x S matrix: more with right eigenvectors, and more with left ones (an inverse).</summary>
    public static double EigenFlops(int size, Vectors vectors = Vectors.None) =>
        (vectors switch { Vectors.None => 10.0, Vectors.Right => 25.0, _ => 35.0 }) * size * size * size;

    /// <summary>The operations of a partial decomposition (-Top): an LU and a few hundred solves and orthogonalisations.</summary>
    public static double TopFlops(int size) => 2.0 / 3 * size * size * size + 400.0 * size * size;

    /// <summary>How many items of the given cost fit the budget: at least 1, at most <paramref name="max"/>.</summary>
    public static int Items(double budget, double costPerItem, int max) =>
        (int)Math.Clamp(budget / Math.Max(costPerItem, 1), 1, max);
}

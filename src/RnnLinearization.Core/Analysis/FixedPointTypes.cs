namespace RnnLinearization.Core;

// The fixed-point search's options and results; the search itself is FixedPoints (driver, filtering, description),
// TrustRegionNewton (the default method) and AdamSearch (the toolkits' procedure).

public enum FixedPointMethod
{
    /// <summary>Newton steps on r(h) = F(h, u) - h in a trust region (Powell's dogleg; see <see cref="TrustRegionNewton"/>).</summary>
    Newton,
    /// <summary>The toolkits' procedure: Adam on the mean of q over all starts, the learning rate cut on plateaus.</summary>
    Adam,
}

/// <summary>
/// Stable: no mode grows (|lambda| &lt;= 1); Unstable: every mode grows; Saddle: some do (all three fixed points, q at
/// most TolQ); Slow: a certified local minimum of q above TolQ; Failed: a start that ended nowhere (it stalled or met
/// the iteration limit: see <see cref="SearchOutcome"/>).
/// </summary>
public enum FixedPointKind { Stable, Saddle, Unstable, Slow, Failed }

/// <summary>
/// How a start's search ended. Converged: q at most TolQ. Slow: q above it at a local minimum of q, certified by
/// |grad q| at most TolGrad |F(h) - h|. Stalled: no step lowers q, or q and |grad q| stopped falling, short of both.
/// IterationLimit: MaxIterations reached, short of both.
/// </summary>
public enum SearchOutcome { Converged, Slow, Stalled, IterationLimit }

/// <summary>How fixed points are searched for and filtered. Names follow Golub and Sussillo's FixedPointFinder where they have one.</summary>
public sealed class FixedPointOptions
{
    public FixedPointMethod Method { get; init; } = FixedPointMethod.Newton;

    /// <summary>tol_q: a point with q = 1/2 |F(h) - h|^2 at or below this is a fixed point; above it, a slow point.</summary>
    public double TolQ { get; init; } = 1e-12;

    /// <summary>tol_dq (Adam): the search ends when every start has q &lt; TolQ or |dq| &lt; TolDq times the learning rate.</summary>
    public double TolDq { get; init; } = 1e-20;

    /// <summary>max_iters; default 100 for Newton, 5,000 for Adam.</summary>
    public int? MaxIterations { get; init; }

    /// <summary>lr_init (Adam).</summary>
    public double LearningRate { get; init; } = 1.0;

    /// <summary>The plateau schedule (Adam), as PyTorch's ReduceLROnPlateau in the toolkit: factor, patience, cooldown.</summary>
    public double LearningRateFactor { get; init; } = 0.95;
    public int LearningRatePatience { get; init; } = 2;
    public int LearningRateCooldown { get; init; }

    /// <summary>Points with q above this are dropped (q outliers); default TolQ, so only fixed points are kept. Larger keeps slow points.</summary>
    public double? MaxQ { get; init; }

    /// <summary>tol_unique: points closer than this in every coordinate are one point (the one with the lower q is kept).</summary>
    public double UniqueTolerance { get; init; } = 1e-3;

    /// <summary>outlier_distance_scale: points farther from the starts' centroid than this many times the starts' mean distance to it are dropped; 0 keeps all.</summary>
    public double OutlierDistance { get; init; } = 10;

    /// <summary>A point above TolQ is Slow (a local minimum of q) only where |grad q| is at most this times |F(h) - h|.</summary>
    public double TolGrad { get; init; } = 1e-6;

    /// <summary>Every start's result, unfiltered and not merged.</summary>
    public bool All { get; init; }

    /// <summary>
    /// After the search, probes from the midpoint of every pair of stable points found (the saddles between memories
    /// sit near there), and adds what they find; not with All. See <see cref="FixedPoints.FindWithSummary"/>.
    /// </summary>
    public bool Probes { get; init; } = true;

    public int Iterations => MaxIterations ?? (Method == FixedPointMethod.Adam ? 5000 : 100);
}

/// <summary>Where one start's search ended, how, and |grad q| there.</summary>
public sealed record FixedPointSearch(int Start, double[] State, double Q, int Iterations,
    SearchOutcome Outcome = SearchOutcome.Converged, double Gradient = 0);

/// <summary>What became of every start: the account a user sees without asking (see <see cref="Text"/>).</summary>
/// <param name="SlowDropped">Starts at certified slow points whose q is above MaxQ (dropped unless -MaxQ keeps them).</param>
/// <param name="HighestSlowQ">The largest q of those, NaN when none.</param>
/// <param name="LowestFailedQ">The smallest q of the starts that stalled or met the iteration limit, NaN when none.</param>
/// <param name="All">With -All: every start's result is emitted, and Points counts them.</param>
/// <param name="Probes">Searches from probes built from the stable points found (face completions, then midpoints); <paramref name="ProbePoints"/> of the points kept were found only by them.</param>
public sealed record FixedPointSummary(int Starts, int Converged, int Slow, int Stalled, int IterationLimit, int Points,
    int SlowDropped, double HighestSlowQ, double LowestFailedQ, bool All = false, int Probes = 0, int ProbePoints = 0)
{
    public int Failed => Stalled + IterationLimit;

    /// <summary>"512 start(s): 360 converged, 152 at slow points (q up to 1.2e-05, kept with -MaxQ 1e-04); 1 point(s) kept."</summary>
    public string Text()
    {
        var parts = new List<string> { $"{Converged} converged" };
        if (Slow > 0)
            parts.Add($"{Slow} at slow points" + (SlowDropped > 0 ? $" (q up to {HighestSlowQ:0.#e+0}, dropped: keep them with -MaxQ {Math.Pow(10, Math.Ceiling(Math.Log10(HighestSlowQ))):0e+0})" : ""));
        if (Stalled > 0) parts.Add($"{Stalled} stalled");
        if (IterationLimit > 0) parts.Add($"{IterationLimit} met the iteration limit");
        string failed = Failed == 0 ? ""
            : $" (the {(Failed == 1 ? "start" : "starts")} that failed ended at neither a fixed nor a slow point, the closest at q {LowestFailedQ:0.#e+0}; -All shows them" +
              // More iterations help only starts that were still going; a stalled start's steps had stopped lowering q.
              (IterationLimit > 0 ? ", -MaxIterations gives more iterations" : "") +
              (Stalled > 0 ? ", and starts nearer the states the network visits (a trajectory's, with less -Noise) stall less" : "") + ")";
        string probes = Probes == 0 ? "" : $"; {Probes} probe(s) from the stable points found {ProbePoints} more";
        return $"{Starts} start(s): {string.Join(", ", parts)}{failed}{probes}; " + (All ? "every start's result emitted (-All)." : $"{Points} point(s) kept.");
    }
}

/// <summary>
/// A fixed (or slow) point with its linearisation. Eigenvalues are sorted by magnitude. UnstableModes: real unit
/// vectors spanning the unstable subspace (see <see cref="Spectrum.UnstableBasis"/>); empty at a stable point.
/// </summary>
public sealed record FixedPoint(double[] State, double[] NextState, double Q, int Iterations, int StartCount, int FirstStart,
    FixedPointKind Kind, EigenResult Spectrum, double[] TimeConstants, double LineAttractorScore, double[][] UnstableModes,
    SearchOutcome Outcome = SearchOutcome.Converged, double Gradient = 0);

/// <summary>How a search is going: for progress bars.</summary>
public readonly record struct FixedPointProgress(int Iteration, int Active, int Total, double MaxQ);

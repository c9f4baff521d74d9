using System.Numerics;

namespace RnnLinearization;

// Plain objects handed to the pipeline: arrays, not tensors; every property is public so that
// Select-Object *, ConvertTo-Json and Export-Csv see it.

/// <summary>
/// One step of the network, or a state to analyse: State is where the step starts, Input the input of that step, and
/// (from Get-RnnTrajectory) NextState where it goes, F(State, Input), with Output the readout there. Piped into the
/// analysis cmdlets, a record is linearised at (State, Input): the step that was taken.
/// </summary>
public sealed class RnnState
{
    public long Index { get; init; }
    public double[]? Input { get; init; }
    public double[] State { get; init; } = Array.Empty<double>();

    /// <summary>F(State, Input), the state the step reached (a trajectory's state at time Index); null for states read from files.</summary>
    public double[]? NextState { get; init; }

    /// <summary>The model's readout at NextState (at State for records without one); null when the model has none.</summary>
    public double[]? Output { get; init; }

    /// <summary>The file the state was read from (Import-RnnState).</summary>
    public string? Path { get; init; }

    /// <summary>The trial (0-based) of an input file of several (Get-RnnTrajectory -InputFile); Index is then the step within it. Null otherwise.</summary>
    public int? Trial { get; init; }

    /// <summary>The row's number in the state file it came from (0-based; Import-RnnState), the same in every shard of the file; null for states not read from a file.</summary>
    public long? SourceRow { get; init; }
}

/// <summary>The linearisation at one state: row i of StateJacobian is d NextState[i] / d State.</summary>
public sealed class RnnJacobian
{
    public long Index { get; init; }
    /// <summary>The row's number in the state file it came from (0-based; Import-RnnState), the same in every shard of the file; null for states not read from a file.</summary>
    public long? SourceRow { get; init; }

    /// <summary>The trial of the state analysed (Get-RnnTrajectory -InputFile); null otherwise.</summary>
    public int? Trial { get; init; }
    public double[] Input { get; init; } = Array.Empty<double>();
    public double[] State { get; init; } = Array.Empty<double>();
    public double[] NextState { get; init; } = Array.Empty<double>();
    public double[][] StateJacobian { get; init; } = Array.Empty<double[]>();
    public double[][] InputJacobian { get; init; } = Array.Empty<double[]>();

    /// <summary>The readout's Jacobian d output / d state [outputs][state values], when the model has a readout (not with -Region).</summary>
    public double[][]? OutputJacobian { get; init; }

    /// <summary>With -Region: the block's region ("PFC"), or "To<-From" for the coupling between two; rows and columns are then the regions' units.</summary>
    public string? Region { get; init; }
}

/// <summary>The spectrum of the state Jacobian at one state. Eigenvectors[k] belongs to Eigenvalues[k].</summary>
public sealed class RnnEigen
{
    public long Index { get; init; }
    /// <summary>The row's number in the state file it came from (0-based; Import-RnnState), the same in every shard of the file; null for states not read from a file.</summary>
    public long? SourceRow { get; init; }

    /// <summary>The trial of the state analysed (Get-RnnTrajectory -InputFile); null otherwise.</summary>
    public int? Trial { get; init; }
    public double[]? Input { get; init; }
    public double[] State { get; init; } = Array.Empty<double>();
    public Complex[] Eigenvalues { get; init; } = Array.Empty<Complex>();
    public double[] Real { get; init; } = Array.Empty<double>();
    public double[] Imaginary { get; init; } = Array.Empty<double>();
    public double[] Magnitude { get; init; } = Array.Empty<double>();
    public Complex[][]? Eigenvectors { get; init; }

    /// <summary>With -LeftEigenvectors: row k of V^-1, so LeftEigenvectors[k] J = lambda_k LeftEigenvectors[k] and LeftEigenvectors[k] . Eigenvectors[j] = delta_kj.</summary>
    public Complex[][]? LeftEigenvectors { get; init; }

    /// <summary>With -LeftEigenvectors: |l_k| |r_k| per mode, each eigenvalue's sensitivity to perturbations of J (1 for a normal matrix).</summary>
    public double[]? ConditionNumbers { get; init; }
    public double SpectralRadius { get; init; }
    public bool IsStable { get; init; }
    public int UnstableCount { get; init; }

    /// <summary>With -Region: the region whose own block was decomposed.</summary>
    public string? Region { get; init; }

    /// <summary>The model's time step when it has one (Import-RnnModel -Dt): Export-RnnPlot -Kind Timescales then draws time constants in its unit.</summary>
    public double? Dt { get; init; }
}

/// <summary>Get-RnnEigen -Top -PerMode: a mode of the partial decomposition, in the target's order, with its certificate.</summary>
public sealed class RnnTopEigenMode : RnnEigenMode
{
    /// <summary>|J v - lambda v| for the mode's unit eigenvector v.</summary>
    public double Residual { get; init; }
}

/// <summary>
/// Get-RnnEigen -Top: the k modes a partial decomposition found (Target NearestOne: nearest 1 first, the slowest and
/// unstable modes; Magnitude: largest first), each certified by Residuals[i] = |J v_i - lambda_i v_i| (|v_i| = 1).
/// Converged: every residual met the tolerance. Separated: mode k is apart from the next candidate by more than both
/// their uncertainties (false in a near-tie, where "the first k" is not well posed). SpectralRadius only by magnitude
/// (|lambda_1|); the stability of the whole spectrum is not known from a part of it.
/// </summary>
public sealed class RnnTopEigen
{
    public long Index { get; init; }
    public long? SourceRow { get; init; }
    public int? Trial { get; init; }
    public double[]? Input { get; init; }
    public double[] State { get; init; } = Array.Empty<double>();
    public Core.TopTarget Target { get; init; }
    public Complex[] Eigenvalues { get; init; } = Array.Empty<Complex>();
    public double[] Real { get; init; } = Array.Empty<double>();
    public double[] Imaginary { get; init; } = Array.Empty<double>();
    public double[] Magnitude { get; init; } = Array.Empty<double>();
    public Complex[][]? Eigenvectors { get; init; }
    public double[] Residuals { get; init; } = Array.Empty<double>();
    public bool Converged { get; init; }
    public bool Separated { get; init; }

    /// <summary>KrylovSchur, or Full where the full decomposition was taken (small, nearly singular or exactly degenerate cases).</summary>
    public string Method { get; init; } = "";
    public double? SpectralRadius { get; init; }
    public string? Region { get; init; }
}

/// <summary>One eigenvalue as a row: for tables and Export-Csv. TimeConstant and Period are in steps, or in the model's time unit when it has a Dt.</summary>
public class RnnEigenMode
{
    public long Index { get; init; }
    /// <summary>The row's number in the state file it came from (0-based; Import-RnnState), the same in every shard of the file; null for states not read from a file.</summary>
    public long? SourceRow { get; init; }

    /// <summary>The trial of the state analysed (Get-RnnTrajectory -InputFile); null otherwise.</summary>
    public int? Trial { get; init; }
    public int Mode { get; init; }
    public double Real { get; init; }
    public double Imaginary { get; init; }
    public double Magnitude { get; init; }
    public double Angle { get; init; }
    public double TimeConstant { get; init; }
    public double Period { get; init; }

    /// <summary>The model's time step when it has one (Import-RnnModel -Dt): TimeConstant and Period are then in its time unit, not in steps.</summary>
    public double? Dt { get; init; }

    /// <summary>With Dt: ln(lambda) / Dt, the continuous-time eigenvalue (real part -1/TimeConstant, imaginary part the angular frequency).</summary>
    public Complex? ContinuousEigenvalue { get; init; }
}

/// <summary>
/// A mode with what Mante et al. (2013) read off a fixed point (Get-RnnEigen -PerMode -LeftEigenvectors): its own type,
/// so that plain RnnEigenMode rows keep their columns.
/// </summary>
public sealed class RnnEigenModeSelection : RnnEigenMode
{
    /// <summary>The mode's right eigenvector r_k (unit length).</summary>
    public Complex[] RightEigenvector { get; init; } = Array.Empty<Complex>();

    /// <summary>The left eigenvector l_k, the selection vector (l_k J = lambda_k l_k, l_k . r_k = 1).</summary>
    public Complex[] SelectionVector { get; init; } = Array.Empty<Complex>();

    /// <summary>l_k . column j of the input Jacobian, per input: how much input j drives the mode.</summary>
    public Complex[] InputOverlap { get; init; } = Array.Empty<Complex>();

    /// <summary>With a readout: C r_k per output (C = d output / d state): how much the readout sees of the mode.</summary>
    public Complex[]? OutputOverlap { get; init; }

    /// <summary>
    /// With a readout: Re[(C r_k)(l_k J_x) / (1 - lambda_k)], [output][input]: the mode's part of
    /// the readout's steady-state response to a constant input change. All modes sum to C (I - J)^-1 J_x.
    /// </summary>
    public double[][]? Gain { get; init; }

    /// <summary>|l_k| |r_k|, the eigenvalue's sensitivity (1 for a normal matrix).</summary>
    public double ConditionNumber { get; init; }
}

/// <summary>The first-order Taylor step for one perturbation row, and with -Exact the true step and its error.</summary>
public sealed class RnnLinearizedStep
{
    public long Index { get; init; }
    /// <summary>The row's number in the state file it came from (0-based; Import-RnnState), the same in every shard of the file; null for states not read from a file.</summary>
    public long? SourceRow { get; init; }

    /// <summary>The trial of the state analysed (Get-RnnTrajectory -InputFile); null otherwise.</summary>
    public int? Trial { get; init; }
    public int Row { get; init; }
    public double[] Input { get; init; } = Array.Empty<double>();
    public double[] State { get; init; } = Array.Empty<double>();
    public double[] DeltaInput { get; init; } = Array.Empty<double>();
    public double[] DeltaState { get; init; } = Array.Empty<double>();
    public double[] NextState { get; init; } = Array.Empty<double>();
    public double[] Linear { get; init; } = Array.Empty<double>();
    public double[]? Exact { get; init; }
    public double[]? Error { get; init; }

    /// <summary>Euclidean norm of Error (Exact - Linear); NaN without -Exact.</summary>
    public double ErrorNorm { get; init; } = double.NaN;
}

/// <summary>
/// A fixed point (Q at most the fixed-point tolerance) or slow point of F(., Input), with its linearisation:
/// eigenvalues sorted by magnitude, their time constants (-1/ln|lambda| steps) and the line attractor score.
/// </summary>
public sealed class RnnFixedPoint
{
    public long Index { get; init; }
    public double[] Input { get; init; } = Array.Empty<double>();
    public double[] State { get; init; } = Array.Empty<double>();
    public double[] NextState { get; init; } = Array.Empty<double>();

    /// <summary>1/2 |F(State, Input) - State|^2.</summary>
    public double Q { get; init; }
    public int Iterations { get; init; }

    /// <summary>How many starts ended at this point (merged within the uniqueness tolerance).</summary>
    public int StartCount { get; init; }

    /// <summary>The first start (0-based, in the order of the starts) that ended here.</summary>
    public int FirstStart { get; init; }
    public Core.FixedPointKind Kind { get; init; }

    /// <summary>How the search from FirstStart ended: Converged, Slow (certified), Stalled or IterationLimit (Kind Failed).</summary>
    public Core.SearchOutcome Outcome { get; init; }

    /// <summary>|grad q| = |(J - I)^T (F(State, Input) - State)| at the point: zero at a fixed point and at a slow point.</summary>
    public double Gradient { get; init; }
    public double SpectralRadius { get; init; }
    public bool IsStable { get; init; }
    public int UnstableCount { get; init; }
    public Complex[] Eigenvalues { get; init; } = Array.Empty<Complex>();
    public double[] TimeConstants { get; init; } = Array.Empty<double>();

    /// <summary>The longest decaying time constant, in steps (NaN when no mode decays).</summary>
    public double SlowestTimeConstant { get; init; }

    /// <summary>log2(|1 - lambda_2| / |1 - lambda_1|) of the two slowest modes.</summary>
    public double LineAttractorScore { get; init; }

    /// <summary>Real unit vectors spanning the unstable subspace, one per unstable mode (for a complex pair: the eigenvector's real and imaginary parts); empty at a stable point.</summary>
    [Ragged]
    public double[][] UnstableModes { get; init; } = Array.Empty<double[]>();
    public double[]? Output { get; init; }

    /// <summary>With -LeftEigenvectors: one RnnEigenMode per eigenvalue, with its selection vector, input and readout overlaps, gain and condition number.</summary>
    public RnnEigenModeSelection[]? Modes { get; init; }

    /// <summary>The model's time step when it has one: TimeConstants and SlowestTimeConstant are then in its time unit, not in steps.</summary>
    public double? Dt { get; init; }

    /// <summary>With Dt: ln(lambda) / Dt for each eigenvalue, in the order of Eigenvalues.</summary>
    public Complex[]? ContinuousEigenvalues { get; init; }
}

/// <summary>A property whose shape differs from result to result (no one array holds it): Export-RnnResult leaves it out.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RaggedAttribute : Attribute { }

/// <summary>One grid point of a flow field: plane coordinates, the projected velocity, its full speed, and the point in state space.</summary>
public sealed class RnnFlowPoint
{
    public long Index { get; init; }
    public double X { get; init; }
    public double Y { get; init; }
    public double VX { get; init; }
    public double VY { get; init; }

    /// <summary>|F(State) - State| in the whole state space (not only its projection).</summary>
    public double Speed { get; init; }
    public double[] State { get; init; } = Array.Empty<double>();
    public double[] Velocity { get; init; } = Array.Empty<double>();
    public double[] Input { get; init; } = Array.Empty<double>();
    public double[]? Output { get; init; }
}

/// <summary>One entry of a model file (Get-RnnFileContent): a tensor, a pickled module, or another value a checkpoint holds.</summary>
public sealed class RnnFileEntry
{
    public RnnFileEntry(string path, string format, RnnLinearization.Core.FileEntry entry)
    {
        Path = path;
        Format = format;
        Key = entry.Key;
        Kind = entry.Kind;
        Shape = entry.Shape is null ? null : $"[{string.Join(", ", entry.Shape)}]";
        Elements = entry.Shape?.Aggregate(1L, (a, b) => a > 0 && b > long.MaxValue / a ? long.MaxValue : a * b);
        DType = entry.DType;
        Value = entry.Value;
    }

    /// <summary>The dotted name, as -Prefix, -Readout and -ParameterMap take it (a tensor's as state_dict() names it).</summary>
    public string Key { get; }

    /// <summary>Tensor, Module (a pickled nn.Module; Value is its class) or Value (a number, string, list, ...).</summary>
    public string Kind { get; }

    /// <summary>A tensor's shape, as PyTorch prints it: [64, 67].</summary>
    public string? Shape { get; }

    public long? Elements { get; }

    /// <summary>The type the tensor is stored as: float32, float16, int64, ...</summary>
    public string? DType { get; }

    /// <summary>A value's text (a module's class); null for tensors.</summary>
    public string? Value { get; }

    public string Path { get; }

    /// <summary>torch.save zip, torch.save legacy, safetensors or TorchScript.</summary>
    public string Format { get; }
}

/// <summary>
/// A Lyapunov spectrum along trajectories (Get-RnnLyapunovSpectrum): the exponents, largest first, with their 95%
/// interval, all rates in <see cref="Unit"/> (per step, or per time unit with -Dt).
/// </summary>
public sealed class RnnLyapunovSpectrum
{
    public double[] Exponents { get; init; } = Array.Empty<double>();
    public double[] Lower { get; init; } = Array.Empty<double>();
    public double[] Upper { get; init; } = Array.Empty<double>();

    /// <summary>"1/step", or "1/time" with -Dt (the exponents per step divided by Dt).</summary>
    public string Unit { get; init; } = "1/step";
    public double Dt { get; init; } = 1;
    public double MaxExponent { get; init; }

    /// <summary>Dimensionless; NaN when the spectrum was cut (-Count) before the running sum turned negative.</summary>
    public double KaplanYorkeDimension { get; init; }

    /// <summary>The sum of the positive exponents (Pesin's bound on the entropy rate), in Unit.</summary>
    public double EntropyBound { get; init; }

    /// <summary>The sum of the exponents computed, in Unit: over the full spectrum, the mean of log |det J| per step (per Dt).</summary>
    public double Sum { get; init; }

    /// <summary>What the interval comes from: "trajectories" (several were run) or "segments" (of the one trajectory).</summary>
    public string Interval { get; init; } = "";
    public int Trajectories { get; init; }
    public int Steps { get; init; }
    public int WarmUp { get; init; }
    public int OrthonormalizeEvery { get; init; }
    public int Count { get; init; }

    /// <summary>With -Local: each segment's exponents (rows: trajectory 0's segments, then trajectory 1's, ...), in Unit.</summary>
    public double[][]? LocalExponents { get; init; }
}

/// <summary>One Lyapunov exponent as a row (Get-RnnLyapunovSpectrum -PerExponent): for tables and Export-Csv.</summary>
public sealed class RnnLyapunovExponent
{
    /// <summary>0 for the largest.</summary>
    public int Index { get; init; }
    public double Exponent { get; init; }
    public double Lower { get; init; }
    public double Upper { get; init; }
    public string Unit { get; init; } = "1/step";
}


/// <summary>
/// One run off an unstable fixed point along one of its unstable modes (Get-RnnFixedPointGraph): an edge of the
/// fixed-point graph from the point From to the stable point To.
/// </summary>
public sealed class RnnFixedPointEdge
{
    /// <summary>The Index of the fixed point left.</summary>
    public long From { get; init; }
    public Core.FixedPointKind FromKind { get; init; }

    /// <summary>The unstable modes of the point left (its index as a saddle).</summary>
    public int FromUnstableCount { get; init; }

    /// <summary>Which unstable mode, counted in order of magnitude (a complex pair once).</summary>
    public int Mode { get; init; }
    public Complex Eigenvalue { get; init; }

    /// <summary>+1 or -1 along a real mode's eigenvector; for a complex pair, k of the -CircleDirections points on its circle.</summary>
    public int Direction { get; init; }

    /// <summary>The Index of the stable point reached; null when none was.</summary>
    public long? To { get; init; }
    public Core.EdgeOutcome Outcome { get; init; }
    public int Steps { get; init; }

    /// <summary>Euclidean distance from the end state to the stable point reached (or the nearest one; NaN without any).</summary>
    public double Distance { get; init; }
    public double[] Input { get; init; } = Array.Empty<double>();

    /// <summary>Where the run ended.</summary>
    public double[] State { get; init; } = Array.Empty<double>();

    /// <summary>States along the run, at most 129, evenly spaced in steps: for pictures.</summary>
    public double[][] Path { get; init; } = Array.Empty<double[]>();
    public double[]? FromOutput { get; init; }
    public double[]? ToOutput { get; init; }

    /// <summary>How many stable points the graph had to settle at (those piped to Get-RnnFixedPointGraph): for Compare-RnnFixedPointGraph.</summary>
    public int StablePoints { get; init; }
}

/// <summary>Two fixed-point graphs compared (Compare-RnnFixedPointGraph).</summary>
public sealed class RnnFixedPointGraphComparison
{
    /// <summary>
    /// True when a one-to-one matching of the stable points carries every saddle (its index and the set of stable points
    /// its runs reach) onto one of the other graph's; null when the search was cut off.
    /// </summary>
    public bool? Isomorphic { get; init; }

    /// <summary>
    /// Output (each memory matched to the one with the nearest readout), Structure (any matching), Counts (the numbers
    /// of stable points or saddles differ), None (no matching), or why nothing was decided: Unsettled (some run
    /// reached no stable point), NoEdges (a graph without saddles), SearchLimit.
    /// </summary>
    public string MatchedBy { get; init; } = "";

    /// <summary>The matching found: ReferenceStable[i] (an Index in the reference graph) goes with DifferenceStable[i].</summary>
    public long[] ReferenceStable { get; init; } = Array.Empty<long>();
    public long[] DifferenceStable { get; init; } = Array.Empty<long>();
    public int ReferenceStableCount { get; init; }
    public int DifferenceStableCount { get; init; }

    /// <summary>The saddles left, by index: "12 of index 1, 6 of index 2, 1 of index 3".</summary>
    public string ReferenceSaddles { get; init; } = "";
    public string DifferenceSaddles { get; init; } = "";

    /// <summary>Distinct (saddle, stable point) pairs joined by settled runs.</summary>
    public int ReferenceLinks { get; init; }
    public int DifferenceLinks { get; init; }

    /// <summary>Runs that reached no piped stable point (left out of the comparison).</summary>
    public int ReferenceUnsettled { get; init; }
    public int DifferenceUnsettled { get; init; }
}

/// <summary>One point of a fixed point's branch along a path of inputs (Trace-RnnFixedPoint), or a bifurcation located on it.</summary>
public sealed class RnnBranchPoint
{
    /// <summary>Which start the branch came from (0-based, in the order the points came).</summary>
    public int Branch { get; init; }

    /// <summary>The continuation step; a located bifurcation has the step of the point after it.</summary>
    public int Step { get; init; }

    /// <summary>Where on the path: the input component's value with -Component, 0 to 1 from -From to -To, k + f on the k-th segment of -InputPath.</summary>
    public double Parameter { get; init; }

    /// <summary>What Parameter is: "input 0" with -Component 0, or the position along the path.</summary>
    public string ParameterName { get; init; } = "";
    public double[] Input { get; init; } = Array.Empty<double>();
    public double[] State { get; init; } = Array.Empty<double>();

    /// <summary>None, or the bifurcation located at this point: Fold, Flip, NeimarkSacker, BranchPoint.</summary>
    public Core.BifurcationKind Event { get; init; }
    public bool IsStable { get; init; }
    public int UnstableCount { get; init; }
    public double SpectralRadius { get; init; }

    /// <summary>The eigenvalues of the state Jacobian nearest the unit circle, nearest first.</summary>
    public Complex[] NearestEigenvalues { get; init; } = Array.Empty<Complex>();
    public double[]? Output { get; init; }

    /// <summary>max |F(h, u) - h| at the point.</summary>
    public double Residual { get; init; }
}

using System.Numerics;
using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

[Cmdlet(VerbsCommon.Get, "RnnEigen", DefaultParameterSetName = JacobianSet)]
[OutputType(typeof(RnnEigen), typeof(RnnEigenMode), typeof(RnnEigenModeSelection), typeof(RnnTopEigen), typeof(RnnTopEigenMode))]
public sealed class GetRnnEigenCommand : StateAnalysisCmdlet
{
    private const string JacobianSet = "Jacobian";
    private readonly List<RnnJacobian> _jacobians = new();

    /// <summary>Jacobians from Get-RnnJacobian: decomposed as they are, no model needed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JacobianSet, ValueFromPipeline = true)]
    public RnnJacobian InputObject { get; set; } = null!;

    [Parameter]
    public EigenSort Sort { get; set; } = EigenSort.Magnitude;

    /// <summary>The spectrum of one region's own block of the state Jacobian (needs a model with a region map).</summary>
    [Parameter(ParameterSetName = StateSet)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    public string? Region { get; set; }

    /// <summary>
    /// Only the k modes nearest 1 (the slowest and unstable ones), or the k largest with -ByMagnitude: a partial
    /// decomposition (Krylov-Schur), each pair certified by its residual; emits RnnTopEigen.
    /// </summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Top { get; set; }

    /// <summary>With -Top: the k modes of largest magnitude instead of those nearest 1.</summary>
    [Parameter]
    public SwitchParameter ByMagnitude { get; set; }

    private UnitRange? _region;

    protected override void BeginProcessing()
    {
        if (LeftEigenvectors && NoEigenvectors)
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-LeftEigenvectors needs the eigenvectors: leave out -NoEigenvectors."), null));
        if (ByMagnitude && Top is null)
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-ByMagnitude chooses which modes -Top finds: give -Top k too (the full decomposition is already sorted by magnitude)."), null));
        if (Top is not null && MyInvocation.BoundParameters.ContainsKey(nameof(Sort)))
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-Top orders its modes by its target (nearest 1, or with -ByMagnitude largest first): leave out -Sort."), null));
        if (Top is not null && LeftEigenvectors)
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-LeftEigenvectors needs the full decomposition (V^-1): leave out -Top."), null));
        base.BeginProcessing();
        if (Region is not null) _region = Terminating(() => Regions.Find(Model, Region), Region);
    }

    /// <summary>One RnnEigenMode per eigenvalue instead of one RnnEigen per state.</summary>
    [Parameter]
    public SwitchParameter PerMode { get; set; }

    /// <summary>Skips the eigenvectors (faster); implied by -PerMode.</summary>
    [Parameter]
    public SwitchParameter NoEigenvectors { get; set; }

    /// <summary>
    /// The left eigenvectors too (row k of V^-1), and for -PerMode each mode's selection vector, input and readout
    /// overlaps, steady-state gain and condition number.
    /// </summary>
    [Parameter]
    public SwitchParameter LeftEigenvectors { get; set; }

    private Vectors Wanted => LeftEigenvectors ? Vectors.Left : !PerMode && !NoEigenvectors ? Vectors.Right : Vectors.None;

    protected override void ProcessRecord()
    {
        if (ParameterSetName != JacobianSet) { base.ProcessRecord(); return; }
        try
        {
            if (InputObject.StateJacobian is null || InputObject.StateJacobian.Length == 0)
                throw new RnnException("JacobianNotSquare", RnnErrorKind.InvalidArgument, "The RnnJacobian has no StateJacobian.");
        }
        catch (RnnException ex) { WriteError(Record(ex, InputObject)); return; }
        _jacobians.Add(InputObject);
        if (_jacobians.Count >= EffectiveBatchSize(InputObject.StateJacobian.Length)) FlushJacobians();
    }

    /// <summary>An eigendecomposition costs about 10 S^3 operations, 25 S^3 with eigenvectors.</summary>
    protected override double FlopsPerState(int matrixSize) => Top is null ? WorkBudget.EigenFlops(matrixSize, Wanted) : WorkBudget.TopFlops(matrixSize);

    protected override void EndProcessing()
    {
        if (ParameterSetName == JacobianSet) FlushJacobians();
        else base.EndProcessing();
    }

    private TopTarget Target => ByMagnitude ? TopTarget.Magnitude : TopTarget.NearestOne;

    private void FlushJacobians()
    {
        if (_jacobians.Count == 0) return;
        var batch = _jacobians.ToArray();
        _jacobians.Clear();
        if (Top is { } k)
        {
            foreach (var j in batch)
            {
                try { EmitTop(j.Index, j.SourceRow, j.Trial, j.Input, j.State, Interruptible(() => TopModes.Of(j.StateJacobian, k, Target, !NoEigenvectors && !PerMode)), null); }
                catch (RnnException ex) { WriteError(Record(ex, j)); }
            }
            return;
        }
        EigenResult[] spectra;
        try { spectra = Interruptible(() => Spectrum.FromMatrices(batch.Select(j => j.StateJacobian).ToArray(), Sort, Wanted)); }
        catch (RnnException)
        {
            // One bad matrix must not take the batch with it: decompose one by one and report the bad ones.
            foreach (var j in batch)
            {
                try { Emit(j, Interruptible(() => Spectrum.FromMatrices(new[] { j.StateJacobian }, Sort, Wanted)[0])); }
                catch (RnnException ex) { WriteError(Record(ex, j)); }
            }
            return;
        }
        for (int i = 0; i < batch.Length; i++) Emit(batch[i], spectra[i]);
    }

    private void Emit(RnnJacobian j, EigenResult spectrum)
    {
        ModeSelection[]? modes = null;
        if (LeftEigenvectors)
        {
            if (j.InputJacobian.Length != j.StateJacobian.Length)
            {
                WriteError(Record(new RnnException("JacobianNotSquare", RnnErrorKind.InvalidArgument,
                    $"The RnnJacobian's InputJacobian has {j.InputJacobian.Length} rows, not the {j.StateJacobian.Length} of its StateJacobian."), j));
                return;
            }
            if (spectrum.LeftEigenvectors is null) { WriteError(Record(Spectrum.Defective(j.Index), j)); return; }
            var c = j.OutputJacobian is { } o && o.All(row => row?.Length == j.StateJacobian.Length) ? o : null;
            modes = Selection.Of(spectrum, j.InputJacobian, c);
        }
        Emit(j.Index, j.SourceRow, j.Trial, j.Input, j.State, spectrum, modes);
    }

    protected override void ProcessBatch(IReadOnlyList<PendingState> batch)
    {
        if (Top is { } k)
        {
            var region = _region;
            var top = Interruptible(() =>
            {
                var jacobians = Linearization.Jacobians(Model, Inputs(batch), States(batch), Precision);
                return TopModes.FromMatrices(Enumerable.Range(0, batch.Count).Select(i => Block(jacobians[i].StateJacobian, region)).ToArray(),
                    k, Target, !NoEigenvectors && !PerMode, StopToken);
            });
            for (int i = 0; i < batch.Count; i++)
                EmitTop(batch[i].Index, batch[i].SourceRow, batch[i].Trial, batch[i].Input, batch[i].State, top[i], Model);
            return;
        }
        if (LeftEigenvectors)
        {
            var results = Interruptible(() => Selection.FromModel(Model, Inputs(batch), States(batch), Sort, Precision, _region));
            for (int i = 0; i < batch.Count; i++)
            {
                if (results[i].Modes is null) { WriteError(Record(Spectrum.Defective(batch[i].Index), batch[i].State)); continue; }
                Emit(batch[i].Index, batch[i].SourceRow, batch[i].Trial, batch[i].Input, batch[i].State, results[i].Spectrum, results[i].Modes);
            }
            return;
        }
        var spectra = Interruptible(() => Spectrum.FromModel(Model, Inputs(batch), States(batch), Sort, Wanted == Vectors.Right, Precision, _region));
        for (int i = 0; i < batch.Count; i++)
            Emit(batch[i].Index, batch[i].SourceRow, batch[i].Trial, batch[i].Input, batch[i].State, spectra[i], null);
    }

    /// <summary>A region's own block of a state Jacobian, or the whole of it.</summary>
    private static double[][] Block(double[][] j, UnitRange? region) =>
        region is null ? j : j.Skip(region.Start).Take(region.Count).Select(row => row.AsSpan(region.Start, region.Count).ToArray()).ToArray();

    private void EmitTop(long index, long? sourceRow, int? trial, double[]? input, double[] state, TopEigenResult top, RnnModel? model)
    {
        var lambda = top.Eigenvalues;
        if (top.Reason is not null) WriteVerbose($"State {index}: the full decomposition was taken: {top.Reason}.");
        if (!top.Converged && !_warnedTop)
        {
            _warnedTop = true;
            WriteWarning(top.Method == "Full"
                ? $"State {index}: the full decomposition's eigenvectors are not all within the tolerance of eigenpairs (largest |J v - lambda v| {top.Residuals.Max():0.0e+0}); the Residuals say how far each is. Said once per command."
                : $"State {index}: the partial decomposition stopped before every mode met its tolerance; the Residuals say how far each is from an eigenpair. Said once per command.");
        }
        if (lambda.Length < Top && !_warnedTopCount)
        {
            _warnedTopCount = true;
            WriteWarning($"-Top {Top} asks for more modes than the {lambda.Length} a Jacobian of {lambda.Length} values has: all {lambda.Length} are given. Said once per command.");
        }
        if (PerMode)
        {
            foreach (var mode in Modes(index, sourceRow, trial, new EigenResult(lambda, null), null, model?.Dt, top.Residuals)) WriteObject(mode);
            return;
        }
        WriteResult(new RnnTopEigen
        {
            Index = index,
            SourceRow = sourceRow,
            Trial = trial,
            Input = input,
            State = state,
            Target = Target,
            Eigenvalues = lambda,
            Real = lambda.Select(l => l.Real).ToArray(),
            Imaginary = lambda.Select(l => l.Imaginary).ToArray(),
            Magnitude = lambda.Select(l => l.Magnitude).ToArray(),
            Eigenvectors = top.Eigenvectors,
            Residuals = top.Residuals,
            Converged = top.Converged,
            Separated = top.Separated,
            Method = top.Method,
            SpectralRadius = Target == TopTarget.Magnitude && top.Converged ? lambda[0].Magnitude : null,
            Region = _region?.Name,
        }, model, state);
    }

    private bool _warnedTop, _warnedTopCount;

    /// <summary>An eigenvalue condition number above which the mode's vectors are not reliable (relative error about kappa^2 eps).</summary>
    private const double IllConditioned = 1e8;
    private bool _warned, _warnedNearUnit;

    /// <summary>|1 - lambda| below which a mode's gain, a division by it, is below what the Jacobian's rounding resolves.</summary>
    private const double NearUnit = 1e-8;

    /// <summary>The warning for gains divided by a near-zero 1 - lambda (null when none is): said once per command by the callers.</summary>
    internal static string? NearUnitGains(string where, Complex[] lambda) =>
        lambda.Select(l => (Complex.One - l).Magnitude).DefaultIfEmpty(1).Min() is var nearest && nearest < NearUnit
            ? $"{where}: a mode has |1 - lambda| = {nearest:0.0e+0}, so its Gain, (C r)(l J_x) / (1 - lambda), divides by less than the Jacobian's " +
              "rounding resolves and is not reliable (an exact line attractor's gain is infinite). Said once per command."
            : null;

    /// <summary>One RnnEigenMode per eigenvalue; an RnnEigenModeSelection, with its selection quantities, where they are given.</summary>
    /// <remarks>With the model's time step <paramref name="dt"/>, times are in its unit and each mode has its continuous-time eigenvalue.</remarks>
    /// <remarks>With <paramref name="residuals"/> (-Top), the rows are RnnTopEigenMode, each with its |J v - lambda v|.</remarks>
    internal static IEnumerable<RnnEigenMode> Modes(long index, long? sourceRow, int? trial, EigenResult spectrum, ModeSelection[]? modes, double? dt,
        double[]? residuals = null)
    {
        var lambda = spectrum.Eigenvalues;
        double unit = dt ?? 1;
        for (int k = 0; k < lambda.Length; k++)
        {
            var (l, tau, period) = (lambda[k], unit * Spectrum.TimeConstant(lambda[k]), unit * Spectrum.Period(lambda[k]));
            Complex? continuous = dt is { } step ? Spectrum.Continuous(l, step) : null;
            yield return residuals is not null
                ? new RnnTopEigenMode
                {
                    Index = index, SourceRow = sourceRow, Trial = trial, Mode = k, Real = l.Real, Imaginary = l.Imaginary,
                    Magnitude = l.Magnitude, Angle = l.Phase, TimeConstant = tau, Period = period, Dt = dt, ContinuousEigenvalue = continuous,
                    Residual = residuals[k],
                }
                : modes is null
                ? new RnnEigenMode
                {
                    Index = index, SourceRow = sourceRow, Trial = trial, Mode = k, Real = l.Real, Imaginary = l.Imaginary,
                    Magnitude = l.Magnitude, Angle = l.Phase, TimeConstant = tau, Period = period, Dt = dt, ContinuousEigenvalue = continuous,
                }
                : new RnnEigenModeSelection
                {
                    Index = index, SourceRow = sourceRow, Trial = trial, Mode = k, Real = l.Real, Imaginary = l.Imaginary,
                    Magnitude = l.Magnitude, Angle = l.Phase, TimeConstant = tau, Period = period, Dt = dt, ContinuousEigenvalue = continuous,
                    RightEigenvector = spectrum.Eigenvectors![k],
                    SelectionVector = spectrum.LeftEigenvectors![k],
                    InputOverlap = modes[k].InputOverlap,
                    OutputOverlap = modes[k].OutputOverlap,
                    Gain = modes[k].Gain,
                    ConditionNumber = modes[k].ConditionNumber,
                };
        }
    }

    private void Emit(long index, long? sourceRow, int? trial, double[]? input, double[] state, EigenResult spectrum, ModeSelection[]? modes)
    {
        var lambda = spectrum.Eigenvalues;
        if (modes is not null && !_warned && modes.Select(m => m.ConditionNumber).DefaultIfEmpty(0).Max() is var worst && worst > IllConditioned)
        {
            _warned = true;
            WriteWarning($"State {index}: a mode has eigenvalue condition number {worst:0.0e+0}, so the Jacobian is defective or nearly so there; " +
                "the left eigenvectors, overlaps and gains of such modes (ConditionNumber above 1e8) are not reliable. Said once per command.");
        }
        if (modes is not null && !_warnedNearUnit && NearUnitGains($"State {index}", lambda) is { } nearUnit)
        {
            _warnedNearUnit = true;
            WriteWarning(nearUnit);
        }
        if (PerMode)
        {
            foreach (var mode in Modes(index, sourceRow, trial, spectrum, modes, ParameterSetName == StateSet ? Model.Dt : null)) WriteObject(mode);
            return;
        }
        WriteResult(new RnnEigen
        {
            Index = index,
            SourceRow = sourceRow,
            Trial = trial,
            Input = input,
            State = state,
            Eigenvalues = lambda,
            Real = lambda.Select(l => l.Real).ToArray(),
            Imaginary = lambda.Select(l => l.Imaginary).ToArray(),
            Magnitude = lambda.Select(l => l.Magnitude).ToArray(),
            Eigenvectors = spectrum.Eigenvectors,
            LeftEigenvectors = spectrum.LeftEigenvectors,
            ConditionNumbers = modes?.Select(m => m.ConditionNumber).ToArray(),
            SpectralRadius = spectrum.SpectralRadius,
            Region = _region?.Name,
            IsStable = spectrum.IsStable,
            UnstableCount = spectrum.UnstableCount,
            Dt = ParameterSetName == StateSet ? Model.Dt : null,
        }, ParameterSetName == StateSet ? Model : null, state);
    }
}

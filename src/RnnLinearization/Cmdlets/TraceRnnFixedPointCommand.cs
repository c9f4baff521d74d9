using System.Management.Automation;
using System.Numerics;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Follows fixed points along a path of inputs (pseudo-arclength continuation) and locates their bifurcations:
/// the branches and the folds, flips and Neimark-Sacker points at which memories appear, vanish or change stability.
/// </summary>
[Cmdlet(VerbsDiagnostic.Trace, "RnnFixedPoint", DefaultParameterSetName = SegmentSet)]
[OutputType(typeof(RnnBranchPoint))]
public sealed class TraceRnnFixedPointCommand : RnnCmdlet
{
    /// <summary>The Core's defaults, the one source of each parameter's default.</summary>
    private static readonly ContinuationOptions Defaults = new();

    private const string SegmentSet = "Segment", PathSet = "Path", ComponentSet = "Component";
    private readonly List<double[]> _starts = new();

    [Parameter(Mandatory = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    /// <summary>A state to follow, bound from piped fixed points (Find-RnnFixedPoint at the path's first input).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public double[]? State { get; set; }

    [Parameter]
    public double[][]? InitialState { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SegmentSet)]
    public double[] From { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = SegmentSet)]
    public double[] To { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    public double[][] InputPath { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = ComponentSet)]
    [ValidateRange(0, int.MaxValue)]
    public int Component { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ComponentSet)]
    [ValidateCount(2, 2)]
    public double[] Range { get; set; } = null!;

    /// <summary>With -Component: the other components of the input (zeros when not given).</summary>
    [Parameter(ParameterSetName = ComponentSet)]
    public double[]? Input { get; set; }

    [Parameter]
    [ValidateRange(1e-12, 10.0)]
    public double StepSize { get; set; } = Defaults.StepSize;

    [Parameter]
    [ValidateRange(1e-12, 10.0)]
    public double MaxStepSize { get; set; } = Defaults.MaxStepSize;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxSteps { get; set; } = Defaults.MaxSteps;

    [Parameter]
    [ValidateRange(1e-15, 1e-3)]
    public double Tolerance { get; set; } = Defaults.Tolerance;

    /// <summary>How many eigenvalues nearest the unit circle each point carries.</summary>
    private const int Nearest = 3;

    protected override void ProcessRecord()
    {
        if (State is not null) _starts.Add(State);
    }

    protected override void EndProcessing()
    {
        if (InitialState is not null) _starts.AddRange(InitialState);
        if (_starts.Count == 0)
            ThrowTerminatingError(Record(new RnnException("NoInitialStates", RnnErrorKind.InvalidArgument,
                "No fixed points to follow: pipe Find-RnnFixedPoint's points found at the path's first input, or give -InitialState."), null));
        var path = Path();
        var options = new ContinuationOptions(StepSize, Math.Min(1e-9, 1e-3 * StepSize), Math.Max(MaxStepSize, StepSize), MaxSteps, Tolerance);
        string activity = $"Following {_starts.Count} fixed point(s) along {path.Count - 1} segment(s) of inputs";
        ContinuationResult result;
        try
        {
            result = Terminating(() => Interruptible(report => Continuation.Follow(Model, path, _starts, options, (done, all) =>
                report(new ProgressRecord(0, "Trace-RnnFixedPoint", activity) { PercentComplete = (int)(100L * done / all) }), StopToken)), Model);
        }
        catch (OperationCanceledException) { return; }
        WriteProgress(new ProgressRecord(0, "Trace-RnnFixedPoint", activity) { RecordType = ProgressRecordType.Completed });
        foreach (var p in result.Points)
        {
            var e = p.Eigenvalues;
            double radius = e.Length == 0 ? 0 : e.Max(l => l.Magnitude);
            WriteObject(new RnnBranchPoint
            {
                Branch = p.Branch,
                Step = p.Step,
                Parameter = Shown(p.Parameter),
                ParameterName = ParameterName,
                Input = p.Input,
                State = p.State,
                Event = p.Event,
                IsStable = radius < 1,
                UnstableCount = e.Count(l => l.Magnitude > 1),
                SpectralRadius = radius,
                NearestEigenvalues = e.OrderBy(l => Math.Abs(l.Magnitude - 1)).Take(Nearest).ToArray(),
                Output = Model.Output(p.State),
                Residual = p.Residual,
            });
        }
        for (int b = 0; b < result.Ends.Length; b++)
        {
            // A start that is no fixed point at the first input leads Newton to whichever one is near: said, not hidden.
            if (result.StartMoved[b] > 1e-6 * (1 + _starts[b].Max(Math.Abs)))
                WriteWarning($"Start {b} was not a fixed point at the path's first input: Newton moved it by {result.StartMoved[b]:0.###e+0} (max-norm) to the one it follows. " +
                    "Pipe Find-RnnFixedPoint's points found at that input.");
            if (result.Ends[b] == BranchEnd.StartNotFixed)
                WriteError(Record(new RnnException("BranchStartNotFixed", RnnErrorKind.InvalidData,
                    $"Start {b} is not near a fixed point at the path's first input (Newton from it did not converge): pipe Find-RnnFixedPoint's points found at that input."), _starts[b]));
            else
                WriteVerbose($"Branch {b}: {result.Ends[b]} after {result.Points.Count(p => p.Branch == b && p.Event == BifurcationKind.None)} point(s); " +
                    string.Join(", ", result.Points.Where(p => p.Branch == b && p.Event != BifurcationKind.None).Select(p => $"{p.Event} at {Shown(p.Parameter):0.######}")));
        }
    }

    /// <summary>What Parameter is, for axis labels: the swept component, or the path's position.</summary>
    private string ParameterName => ParameterSetName switch
    {
        ComponentSet => $"input {Component}",
        SegmentSet => "position from -From (0) to -To (1)",
        _ => "position along -InputPath (k at input k)",
    };

    /// <summary>The parameter as the user gave the path: the swept component's value with -Component.</summary>
    private double Shown(double parameter) => ParameterSetName == ComponentSet ? Range[0] + parameter * (Range[1] - Range[0]) : parameter;

    /// <summary>The path as a polyline of inputs, checked.</summary>
    private List<double[]> Path()
    {
        switch (ParameterSetName)
        {
            case PathSet:
                for (int k = 0; k < InputPath.Length; k++)
                    if (InputPath[k]?.Length != Model.InputSize)
                        ThrowTerminatingError(Record(new RnnException("InputLengthMismatch", RnnErrorKind.InvalidArgument,
                            $"Row {k} of -InputPath has {InputPath[k]?.Length ?? 0} values; the model takes {Model.InputSize} inputs."), InputPath));
                return InputPath.ToList();
            case ComponentSet:
                if (Component >= Model.InputSize)
                    ThrowTerminatingError(Record(new RnnException("InvalidComponent", RnnErrorKind.InvalidArgument,
                        $"-Component {Component}: the model has {Model.InputSize} input(s), numbered from 0."), Component));
                var basis = Input ?? new double[Model.InputSize];
                if (basis.Length != Model.InputSize)
                    ThrowTerminatingError(Record(new RnnException("InputLengthMismatch", RnnErrorKind.InvalidArgument,
                        $"-Input has {basis.Length} values; the model takes {Model.InputSize}."), Input));
                var a = (double[])basis.Clone();
                var b = (double[])basis.Clone();
                (a[Component], b[Component]) = (Range[0], Range[1]);
                return new List<double[]> { a, b };
            default:
                foreach (var (name, u) in new[] { ("-From", From), ("-To", To) })
                    if (u.Length != Model.InputSize)
                        ThrowTerminatingError(Record(new RnnException("InputLengthMismatch", RnnErrorKind.InvalidArgument,
                            $"{name} has {u.Length} values; the model takes {Model.InputSize} inputs."), u));
                return new List<double[]> { From, To };
        }
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// The fixed-point graph: which stable point each saddle's unstable modes lead to. Collects the piped fixed points,
/// runs from every unstable one along each unstable mode, both ways, and emits one edge per run.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RnnFixedPointGraph")]
[OutputType(typeof(RnnFixedPointEdge))]
public sealed class GetRnnFixedPointGraphCommand : RnnCmdlet
{
    /// <summary>The Core's defaults, the one source of each parameter's default.</summary>
    private static readonly GraphOptions Defaults = new();

    private readonly List<RnnFixedPoint> _points = new();

    [Parameter(Mandatory = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    /// <summary>Fixed points from Find-RnnFixedPoint: the unstable ones are left, the stable ones are where runs settle.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public RnnFixedPoint InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double Perturbation { get; set; } = Defaults.Perturbation;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxSteps { get; set; } = Defaults.MaxSteps;

    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double Tolerance { get; set; } = Defaults.Tolerance;

    [Parameter]
    [ValidateRange(1, 360)]
    public int CircleDirections { get; set; } = Defaults.CircleDirections;

    protected override void ProcessRecord() => _points.Add(InputObject);

    protected override void EndProcessing()
    {
        if (_points.Count == 0) return;
        var input = _points[0].Input;
        if (_points.Any(p => !p.Input.SequenceEqual(input)))
            ThrowTerminatingError(Record(new RnnException("FixedPointInputsDiffer", RnnErrorKind.InvalidArgument,
                "The piped fixed points were found at different inputs; a graph joins the points of one input: filter them by Input first."), null));
        var sources = _points.Where(p => p.UnstableCount > 0 && p.Kind != FixedPointKind.Failed && p.Kind != FixedPointKind.Slow).ToList();
        var stable = _points.Where(p => p.Kind == FixedPointKind.Stable).ToList();
        if (stable.Count == 0)
            WriteWarning("No stable point was piped: no run can settle at a known point (pipe all of Find-RnnFixedPoint's points).");
        // Points found with another model are not fixed points of this one: the runs from them would describe nothing.
        var used = sources.Concat(stable).ToList();
        int moved = Terminating(() => FixedPoints.NotFixed(Model, input, used.Select(p => p.State).ToList(), used.Select(p => p.Q).ToList()), Model);
        if (moved > 0)
            WriteWarning($"{moved} of the {used.Count} piped point(s) are not fixed points of this model at their input (|F(h, u) - h| above 1e-6): " +
                "were they found with another model? Pipe the points that Find-RnnFixedPoint finds with -Model.");
        var options = new GraphOptions(Perturbation, MaxSteps, Tolerance, CircleDirections);
        string activity = $"Runs off {sources.Count} unstable point(s) toward {stable.Count} stable one(s)";
        GraphEdge[] edges;
        try
        {
            edges = Terminating(() => Interruptible(report => FixedPointGraph.Edges(Model, input, sources.Select(p => new GraphSource(p.State, p.Eigenvalues, p.UnstableModes)).ToList(),
                stable.Select(p => p.State).ToList(), options, (step, active) =>
                    report(new ProgressRecord(0, "Get-RnnFixedPointGraph", activity) { PercentComplete = (int)(100L * step / MaxSteps), StatusDescription = $"step {step}, {active} run(s) going" }),
                StopToken)), Model);
        }
        catch (OperationCanceledException) { return; }
        WriteProgress(new ProgressRecord(0, "Get-RnnFixedPointGraph", activity) { RecordType = ProgressRecordType.Completed });
        foreach (var e in edges)
        {
            var from = sources[e.From];
            var to = e.To is { } t ? stable[t] : null;
            WriteObject(new RnnFixedPointEdge
            {
                From = from.Index,
                FromKind = from.Kind,
                FromUnstableCount = from.UnstableCount,
                Mode = e.Mode,
                Eigenvalue = e.Eigenvalue,
                Direction = e.Direction,
                To = to?.Index,
                Outcome = e.Outcome,
                Steps = e.Steps,
                Distance = e.Distance,
                Input = input,
                State = e.State,
                Path = e.Path,
                FromOutput = from.Output,
                ToOutput = to?.Output,
                StablePoints = stable.Count,
            });
        }
        int settled = edges.Count(e => e.Outcome == EdgeOutcome.Settled);
        WriteVerbose($"{edges.Length} run(s) off {sources.Count} unstable point(s): {settled} settled at {edges.Where(e => e.To is not null).Select(e => e.To).Distinct().Count()} of {stable.Count} stable point(s)" +
            $", {edges.Count(e => e.Outcome == EdgeOutcome.Elsewhere)} at another fixed point, {edges.Count(e => e.Outcome == EdgeOutcome.NotSettled)} not settled in {MaxSteps} steps, {edges.Count(e => e.Outcome == EdgeOutcome.Diverged)} diverged.");
        if (settled < edges.Length)
            WriteWarning($"{edges.Length - settled} of {edges.Length} run(s) did not reach a piped stable point; see their Outcome (raise -MaxSteps, or pipe all the stable points).");
    }
}

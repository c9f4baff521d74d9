using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// The flow F(h, u) - h (or its linearisation about a state) on a grid in a plane of state space: the plane of the
/// piped states' first two principal components, or of -Axes.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RnnFlowField", DefaultParameterSetName = NonlinearSet)]
[OutputType(typeof(RnnFlowPoint))]
public sealed class GetRnnFlowFieldCommand : RnnCmdlet
{
    private const string NonlinearSet = "Nonlinear", LinearSet = "Linear";
    private readonly List<double[]> _states = new();
    private long _position;

    [Parameter(Mandatory = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    [Parameter]
    public double[]? Input { get; set; }

    /// <summary>States that define the plane (and its default centre and extent), bound by property name from the pipeline.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    public double[]? State { get; set; }

    /// <summary>The file a piped state was read from (Import-RnnState's Path): a state of the wrong length there is the whole file's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("Path")]
    public string? SourcePath { get; set; }

    [Parameter]
    public double[][]? Axes { get; set; }

    [Parameter]
    [ValidateRange(2, 1000)]
    public int GridSize { get; set; } = 10;

    [Parameter]
    public double[]? Extent { get; set; }

    [Parameter]
    public double[]? Center { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = LinearSet)]
    public SwitchParameter Linear { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = LinearSet)]
    public double[] AroundState { get; set; } = null!;

    protected override void ProcessRecord()
    {
        CheckFileWidth(Model, SourcePath, State);
        if (State is not null && CheckItem(() => Check.State(Model, State), _position++, State)) _states.Add(State);
    }

    protected override void EndProcessing()
    {
        var input = Input ?? new double[Model.InputSize];
        var plane = Terminating(() => FlowField.Plane(Model, _states, Axes, Center, Extent), Model);
        FlowPoint[] points;
        try
        {
            points = Terminating(() => Interruptible(() => FlowField.Compute(Model, input, plane, GridSize, Linear ? AroundState : null, StopToken)), Model);
        }
        catch (OperationCanceledException) { return; }
        for (int i = 0; i < points.Length; i++)
        {
            var p = points[i];
            WriteResult(new RnnFlowPoint
            {
                Index = i,
                X = p.X,
                Y = p.Y,
                VX = p.VX,
                VY = p.VY,
                Speed = p.Speed,
                State = p.State,
                Velocity = p.Velocity,
                Input = input,
                Output = Model.Output(p.State),
            }, Model, p.State);
        }
    }
}

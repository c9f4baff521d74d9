using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// The shared face of the cmdlets that run from starting states (Find-RnnFixedPoint, Get-RnnLyapunovSpectrum):
/// -Model, states piped by property name (a file's of the wrong width stop the command once) or -InitialState.
/// </summary>
public abstract class StartingStatesCmdlet : RnnCmdlet
{
    protected const string PipelineSet = "Pipeline", InitialSet = "InitialState";
    private readonly List<double[]> _piped = new();
    private long _position;

    [Parameter(Mandatory = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    /// <summary>A starting state, bound by property name from piped objects (RnnState, RnnFixedPoint, ...).</summary>
    [Parameter(ParameterSetName = PipelineSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    public double[]? State { get; set; }

    /// <summary>The file a piped state was read from (Import-RnnState's Path): a state of the wrong length there is the whole file's.</summary>
    [Parameter(ParameterSetName = PipelineSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("Path")]
    public string? SourcePath { get; set; }

    /// <summary>Starting states as an array of arrays, or the path of a state file (.csv, .npy, .npz, .json).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InitialSet)]
    [StatesTransformation]
    public double[][] InitialState { get; set; } = null!;

    /// <summary>How many states were piped, valid or not.</summary>
    protected long PipedCount => _position;

    /// <summary>The starting states: -InitialState's, or the valid piped ones in order.</summary>
    protected IReadOnlyList<double[]> StartingStates => ParameterSetName == InitialSet ? InitialState : _piped;

    protected override void ProcessRecord()
    {
        if (ParameterSetName != PipelineSet || State is null) return;
        CheckFileWidth(Model, SourcePath, State);
        if (CheckItem(() => Check.State(Model, State), _position++, State, "Initial state")) _piped.Add(State);
    }
}

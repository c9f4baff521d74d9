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

    /// <summary>
    /// The piped object itself (hidden): a state piped with an input (RnnState, Import-RnnState's records) is a reminder
    /// that the command runs at its own -Input, not at the inputs the states were met at.
    /// </summary>
    [Parameter(ParameterSetName = PipelineSet, ValueFromPipeline = true, DontShow = true)]
    public PSObject? PipedObject { get; set; }

    private double[]? _pipedInput;   // the input every piped state carried, while they all carried the same one
    private bool _pipedInputsVary;
    private int _pipedInputs, _pipedStates;

    /// <summary>Starting states as an array of arrays, or the path of a state file (.csv, .npy, .npz, .json).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InitialSet)]
    [StatesTransformation]
    public double[][] InitialState { get; set; } = null!;

    /// <summary>
    /// A warning when every piped state carries one same input (a context held through a trial) that differs from
    /// <paramref name="used"/>, the one input the command runs at: the results depend on the input, and the states'
    /// own input is easily taken for granted. States met under varying inputs (a driven trajectory) are only starts.
    /// </summary>
    protected void WarnIfPipedInputsDiffer(double[] used, string what)
    {
        if (_pipedInput is null || _pipedInputsVary || _pipedInputs < _pipedStates || _pipedInput.Length != used.Length || _pipedInput.SequenceEqual(used)) return;
        static string Text(double[] v) => "(" + string.Join(", ", v.Select(x => x.ToString("G4", System.Globalization.CultureInfo.InvariantCulture))) + ")";
        WriteWarning($"All {_pipedInputs} piped states carry the input {Text(_pipedInput)}, but {what} runs at -Input {Text(used)}: " +
            $"the results depend on the input. Give -Input {string.Join(",", _pipedInput.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))} to run at theirs.");
    }

    /// <summary>How many states were piped, valid or not.</summary>
    protected long PipedCount => _position;

    /// <summary>The starting states: -InitialState's, or the valid piped ones in order.</summary>
    protected IReadOnlyList<double[]> StartingStates => ParameterSetName == InitialSet ? InitialState : _piped;

    protected override void ProcessRecord()
    {
        if (ParameterSetName != PipelineSet) return;
        if (State is null)
        {
            // An object without a State (a bare array, a string): said, as PowerShell says it when nothing binds.
            if (PipedObject is not null)
                WriteError(Record(new RnnException("InputObjectHasNoState", RnnErrorKind.InvalidArgument,
                    $"Piped object {_position++} has no State property ({PipedObject.BaseObject.GetType().Name}): pipe objects with a State (RnnState, RnnFixedPoint, Import-RnnState's records), or give -InitialState."), PipedObject));
            return;
        }
        _pipedStates++;
        if (PipedObject?.Properties["Input"]?.Value is { } input && LanguagePrimitives.TryConvertTo(input, out double[]? values) && values is { Length: > 0 })
        {
            _pipedInput ??= values;
            _pipedInputsVary |= !values.SequenceEqual(_pipedInput);
            _pipedInputs++;
        }
        CheckFileWidth(Model, SourcePath, State);
        if (CheckItem(() => Check.State(Model, State), _position++, State, "Initial state")) _piped.Add(State);
    }
}

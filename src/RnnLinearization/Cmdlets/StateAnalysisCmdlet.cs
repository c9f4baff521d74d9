using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>One state of the stream, checked against the model, waiting for its batch.</summary>
public sealed record PendingState(long Index, double[] Input, double[] State);

/// <summary>
/// The shared face of the analysis cmdlets: -Model, -Input, -State, -Index (bound by property name from the
/// pipeline), per-item checks that write an error and let the stream go on, and batching of valid states.
/// </summary>
public abstract class StateAnalysisCmdlet : RnnCmdlet
{
    protected const string StateSet = "State";
    private readonly List<PendingState> _pending = new();
    private long _position, _done;

    [Parameter(Mandatory = true, ParameterSetName = StateSet)]
    public RnnModel Model { get; set; } = null!;

    /// <summary>Input at the state; zeros (autonomous dynamics) when not given.</summary>
    [Parameter(ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true)]
    public double[]? Input { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    public double[] State { get; set; } = null!;

    /// <summary>Carried to the output; the position in the stream when not given.</summary>
    [Parameter(ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true)]
    public long? Index { get; set; }

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Double (default) or Single: float32 tensor arithmetic, faster where a user accepts its rounding.</summary>
    [Parameter]
    public Precision Precision { get; set; } = Precision.Double;

    protected override void ProcessRecord()
    {
        if (ParameterSetName != StateSet) return;
        long index = Index ?? _position;
        _position++;
        var input = Input ?? new double[Model.InputSize];
        try
        {
            Check.Input(Model, input);
            Check.State(Model, State);
        }
        catch (RnnException ex)
        {
            WriteError(Record(new RnnException(ex.ErrorId, ex.Kind, $"State {index}: {ex.Message}"), State));
            return;
        }
        _pending.Add(new PendingState(index, input, State));
        if (_pending.Count >= BatchSize) Flush();
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName != StateSet) return;
        Flush();
        if (_done > 0) WriteProgress(new ProgressRecord(0, MyInvocation.MyCommand.Name, "Done") { RecordType = ProgressRecordType.Completed });
    }

    private void Flush()
    {
        if (_pending.Count == 0) return;
        var batch = _pending.ToArray();
        _pending.Clear();
        Terminating(() => { ProcessBatch(batch); return 0; }, Model);
        _done += batch.Length;
        WriteProgress(new ProgressRecord(0, MyInvocation.MyCommand.Name, $"{_done} states analysed") { PercentComplete = -1 });
    }

    /// <summary>Computes a batch of checked states with the core and writes the results.</summary>
    protected abstract void ProcessBatch(IReadOnlyList<PendingState> batch);

    protected static double[][] Inputs(IReadOnlyList<PendingState> batch) => batch.Select(p => p.Input).ToArray();
    protected static double[][] States(IReadOnlyList<PendingState> batch) => batch.Select(p => p.State).ToArray();
}

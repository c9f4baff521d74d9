using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>One state of the stream, checked against the model, waiting for its batch.</summary>
public sealed record PendingState(long Index, double[] Input, double[] State, long? SourceRow = null, int? Trial = null);

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
    [ModelTransformation]
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

    /// <summary>Carried to the output: a piped state's row in its file (Import-RnnState's SourceRow).</summary>
    [Parameter(ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? SourceRow { get; set; }

    /// <summary>Carried to the output: a piped state's trial (Get-RnnTrajectory -InputFile's Trial).</summary>
    [Parameter(ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    public int? Trial { get; set; }

    /// <summary>The file a piped state was read from (Import-RnnState's Path): a state of the wrong length there is the whole file's.</summary>
    [Parameter(ParameterSetName = StateSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("Path")]
    public string? SourcePath { get; set; }

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Double (default) or Single: float32 tensor arithmetic, faster where a user accepts its rounding.</summary>
    [Parameter]
    public Precision Precision { get; set; } = Precision.Double;

    private int _batch = -1;

    /// <summary>The work of one state, in floating-point operations, for the cost bound on batches (0: bound by memory alone).</summary>
    protected virtual double FlopsPerState(int matrixSize) => 0;

    /// <summary>
    /// -BatchSize, capped so that a batch's S x S matrices (and, for spectra, as many eigenvectors) stay near
    /// WorkBudget.StateBatchBytes (64 states at S = 1,024) and its work near WorkBudget.StateBatchFlops. Says so once, as a
    /// verbose message, when it caps.
    /// </summary>
    protected int EffectiveBatchSize(int matrixSize)
    {
        if (_batch > 0) return _batch;
        int byMemory = WorkBudget.Items(WorkBudget.StateBatchBytes, 8.0 * matrixSize * matrixSize, int.MaxValue);
        double flops = FlopsPerState(matrixSize);
        int byWork = flops > 0 ? WorkBudget.Items(WorkBudget.StateBatchFlops, flops, int.MaxValue) : int.MaxValue;
        _batch = Math.Clamp(Math.Min(byMemory, byWork), 1, BatchSize);
        if (_batch < BatchSize)
            WriteVerbose($"Batches of {_batch} states instead of {BatchSize}: one state's {matrixSize} x {matrixSize} matrix takes {8.0 * matrixSize * matrixSize / (1 << 20):0.#} MB" +
                (byWork < byMemory ? $" and about {flops:0.0e+0} operations." : "."));
        return _batch;
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName != StateSet) return;
        long index = Index ?? _position;
        _position++;
        var input = Input ?? new double[Model.InputSize];
        CheckFileWidth(Model, SourcePath, State, Flush);
        if (!CheckItem(() => { Check.Input(Model, input); Check.State(Model, State); }, index, State, beforeError: Flush)) return;
        _pending.Add(new PendingState(index, input, State, SourceRow, Trial));
        if (_pending.Count >= EffectiveBatchSize(Model.StateSize)) Flush();
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

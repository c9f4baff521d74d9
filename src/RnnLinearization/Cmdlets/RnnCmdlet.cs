using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>What every cmdlet of the module shares: libtorch loaded up front, core errors as ErrorRecords.</summary>
public abstract class RnnCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled by StopProcessing (Ctrl+C): long core work checks it between bounded pieces.</summary>
    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>
    /// Called by PowerShell when the pipeline ends, stopped or not. A piece left running by Stop may still read the
    /// token, which stays readable after the source is disposed (Core never registers callbacks on it).
    /// </summary>
    public void Dispose()
    {
        Release();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>What a cmdlet holds beyond the pipeline (a half-written file), released when it ends.</summary>
    protected virtual void Release() { }

    /// <summary>
    /// A state piped from a file (its Path, as Import-RnnState gives it) of the wrong width: a file's rows all have one
    /// width, so one terminating error that names the file, both widths and the likely cause, not one error per row.
    /// <paramref name="beforeError"/> runs first (to emit what was done).
    /// </summary>
    protected void CheckFileWidth(RnnModel model, string? path, double[]? state, Action? beforeError = null)
    {
        if (path is null || state is null || state.Length == model.StateSize) return;
        beforeError?.Invoke();
        int s = model.StateSize, n = model.InputSize, width = state.Length;
        string cause = width == s + 1 ? " The extra column is likely an index: name it 'index' in the header (Import-RnnState reads it as Index)."
            : width == s + n ? $" The extra {n} columns are likely the inputs: name them input_0 .. input_{n - 1} in the header."
            : model.HasCellState && width == model.HiddenSize * model.NumLayers ? $" That is an LSTM's h alone; its state is [h; c] per layer ({model.StateLayout})."
            : width < s && s % width == 0 && model.NumLayers > 1 ? $" That is one layer's width; a {model.NumLayers}-layer model's state is every layer's ({model.StateLayout})."
            : " The file may belong to another model: Get-RnnFileContent and the model's StateLayout show what each expects.";
        ThrowTerminatingError(Record(new RnnException("StateFileWidthMismatch", RnnErrorKind.InvalidData,
            $"'{path}' holds states of {width} values; the model's state has {s}.{cause}"), path));
    }

    /// <summary>Checks one streamed item; a bad one is written as an error for that item ("State 3: ...") and the stream goes on.</summary>
    /// <param name="beforeError">Runs before the error is written: results of earlier items come first, also under -ErrorAction Stop.</param>
    protected bool CheckItem(Action check, long index, object? target, string what = "State", Action? beforeError = null)
    {
        try
        {
            check();
            return true;
        }
        catch (RnnException ex)
        {
            beforeError?.Invoke();
            WriteError(Record(new RnnException(ex.ErrorId, ex.Kind, $"{what} {index}: {ex.Message}"), target));
            return false;
        }
    }
    protected override void BeginProcessing()
    {
        try { TorchRuntime.EnsureLoaded(); }
        catch (RnnException ex) { ThrowTerminatingError(Record(ex, null)); }
    }

    /// <summary>The core's error kinds are named after PowerShell's categories.</summary>
    protected static ErrorRecord Record(RnnException ex, object? target) =>
        new(ex, ex.ErrorId, Enum.TryParse<ErrorCategory>(ex.Kind.ToString(), out var category) ? category : ErrorCategory.NotSpecified, target);

    /// <summary>Runs <paramref name="work"/>; a core error ends the command, as does a libtorch error (its first line, no native frames).</summary>
    protected T Terminating<T>(Func<T> work, object? target)
    {
        try { return work(); }
        catch (RnnException ex) { ThrowTerminatingError(Record(ex, target)); throw; }
        catch (System.Runtime.InteropServices.ExternalException ex)
        {
            var first = ex.Message.Split('\n', 2)[0].Trim();
            ThrowTerminatingError(Record(new RnnException("TorchComputationFailed", RnnErrorKind.InvalidOperation,
                $"libtorch failed during the computation: {first}", ex), target));
            throw;
        }
    }

    /// <summary>
    /// Writes a result about a state. An LSTM's state is [h; c] per layer: its results also carry the parts by name,
    /// Hidden and Cell (all layers' h and c), and NextHidden and NextCell when a next state is given.
    /// </summary>
    protected void WriteResult(object result, RnnModel? model, double[] state, double[]? next = null)
    {
        if (model?.SplitCellState(state) is not var (hidden, cell))
        {
            WriteObject(result);
            return;
        }
        var o = PSObject.AsPSObject(result);
        o.Properties.Add(new PSNoteProperty("Hidden", hidden));
        o.Properties.Add(new PSNoteProperty("Cell", cell));
        if (next is not null)
        {
            var (nextHidden, nextCell) = model.SplitCellState(next)!.Value;
            o.Properties.Add(new PSNoteProperty("NextHidden", nextHidden));
            o.Properties.Add(new PSNoteProperty("NextCell", nextCell));
        }
        WriteObject(o);
    }

    /// <summary>
    /// Runs core work on a worker thread and waits for it or for Stop (Ctrl+C), whichever comes first. One libtorch
    /// call cannot be interrupted (an eigendecomposition at S = 1,024 takes seconds), so on Stop the command returns at
    /// once and the piece in flight finishes in the background, its result dropped. The work must not write to the
    /// pipeline (only this thread may).
    /// </summary>
    protected T Interruptible<T>(Func<T> work) => Interruptible(_ => work());

    /// <summary>
    /// As <see cref="Interruptible{T}(Func{T})"/>, for work that reports progress: it hands records to the callback
    /// (from its thread), and this thread writes the latest one while it waits.
    /// </summary>
    protected T Interruptible<T>(Func<Action<ProgressRecord>, T> work)
    {
        var gate = new object();
        ProgressRecord? latest = null;
        var task = TorchWorkers.Run(() => work(record => { lock (gate) latest = record; }));
        void Report()
        {
            ProgressRecord? record;
            lock (gate) (record, latest) = (latest, null);
            if (record is not null) WriteProgress(record);
        }
        try
        {
            while (!task.Wait(100, StopToken)) Report();
            Report();
        }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }
        return task.Result;
    }

    /// <summary>-Shard and -ShardCount as one shard: -Shard without -ShardCount is an error, as is a shard that does not exist.</summary>
    protected Shard BoundShard(int shard, int count)
    {
        if (MyInvocation.BoundParameters.ContainsKey("Shard") && !MyInvocation.BoundParameters.ContainsKey("ShardCount"))
            throw new RnnException("InvalidShard", RnnErrorKind.InvalidArgument,
                "-Shard needs -ShardCount: give both (in a Slurm array job: -Shard $env:SLURM_ARRAY_TASK_ID -ShardCount $env:SLURM_ARRAY_TASK_COUNT).");
        var result = new Shard(shard, count);
        result.Check();
        return result;
    }

    protected string FileSystemPath(string path) => GetUnresolvedProviderPathFromPSPath(path);
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>The seed's forward: F(x, h) + J_h dH[r] + J_x dx for each perturbation row, per state of the stream.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "RnnLinearization", DefaultParameterSetName = StateSet)]
[OutputType(typeof(RnnLinearizedStep))]
public sealed class InvokeRnnLinearizationCommand : StateAnalysisCmdlet
{
    /// <summary>Input perturbation dx; zeros when not given.</summary>
    [Parameter]
    public double[]? DeltaInput { get; set; }

    /// <summary>State perturbations, one per row.</summary>
    [Parameter(Mandatory = true)]
    public double[][] DeltaState { get; set; } = null!;

    /// <summary>Also computes F(x + dx, h + dH[r]) and the error of the linear step.</summary>
    [Parameter]
    public SwitchParameter Exact { get; set; }

    private double[][] Rows()
    {
        // A flat list of StateSize numbers is one perturbation, not StateSize perturbations of length 1.
        if (Model.StateSize > 1 && DeltaState.Length == Model.StateSize && DeltaState.All(r => r is { Length: 1 }))
            return new[] { DeltaState.Select(r => r[0]).ToArray() };
        return DeltaState;
    }

    private double[][] _rows = null!;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _rows = Rows();
        // The perturbations are the same for every state: a wrong one ends the command before any work.
        Terminating(() => { Linearization.CheckPerturbations(Model, DeltaInput ?? new double[Model.InputSize], _rows); return 0; }, DeltaState);
    }

    protected override void ProcessBatch(IReadOnlyList<PendingState> batch)
    {
        var steps = Interruptible(() => Linearization.Taylor(Model, Inputs(batch), States(batch), DeltaInput, _rows, Exact, Precision));
        var deltaInput = DeltaInput ?? new double[Model.InputSize];
        for (int b = 0; b < batch.Count; b++)
        {
            var step = steps[b];
            for (int r = 0; r < _rows.Length; r++)
            {
                double[]? error = step.Exact?[r].Zip(step.Linear[r], (e, l) => e - l).ToArray();
                WriteResult(new RnnLinearizedStep
                {
                    Index = batch[b].Index,
                    SourceRow = batch[b].SourceRow,
                    Trial = batch[b].Trial,
                    Row = r,
                    Input = batch[b].Input,
                    State = batch[b].State,
                    DeltaInput = deltaInput,
                    DeltaState = _rows[r],
                    NextState = step.NextState,
                    Linear = step.Linear[r],
                    Exact = step.Exact?[r],
                    Error = error,
                    ErrorNorm = error is null ? double.NaN : Math.Sqrt(error.Sum(e => e * e)),
                }, Model, batch[b].State, step.NextState);
            }
        }
    }
}

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
        Terminating(() =>
        {
            if (DeltaInput is not null) Check.Vector(DeltaInput, Model.InputSize, "DeltaInput", "DeltaInputLengthMismatch");
            for (int r = 0; r < _rows.Length; r++)
                Check.Vector(_rows[r], Model.StateSize, $"DeltaState row {r}", "DeltaStateLengthMismatch");
            return 0;
        }, DeltaState);
    }

    protected override void ProcessBatch(IReadOnlyList<PendingState> batch)
    {
        var rows = _rows;
        foreach (var item in batch)
        {
            TaylorResult step;
            try { step = Linearization.Taylor(Model, item.Input, item.State, DeltaInput, rows, Exact, Precision); }
            catch (RnnException ex)
            {
                WriteError(Record(new RnnException(ex.ErrorId, ex.Kind, $"State {item.Index}: {ex.Message}"), item.State));
                continue;
            }
            for (int r = 0; r < rows.Length; r++)
            {
                double[]? error = step.Exact?[r].Zip(step.Linear[r], (e, l) => e - l).ToArray();
                WriteObject(new RnnLinearizedStep
                {
                    Index = item.Index,
                    Row = r,
                    Input = item.Input,
                    State = item.State,
                    DeltaInput = DeltaInput ?? new double[Model.InputSize],
                    DeltaState = rows[r],
                    NextState = step.NextState,
                    Linear = step.Linear[r],
                    Exact = step.Exact?[r],
                    Error = error,
                    ErrorNorm = error is null ? double.NaN : Math.Sqrt(error.Sum(e => e * e)),
                });
            }
        }
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

[Cmdlet(VerbsCommon.Get, "RnnJacobian", DefaultParameterSetName = StateSet)]
[OutputType(typeof(RnnJacobian))]
public sealed class GetRnnJacobianCommand : StateAnalysisCmdlet
{
    protected override void ProcessBatch(IReadOnlyList<PendingState> batch)
    {
        var results = Linearization.Jacobians(Model, Inputs(batch), States(batch), Precision);
        for (int i = 0; i < batch.Count; i++)   // each result is made as it is read: streamed, not held
        {
            WriteObject(new RnnJacobian
            {
                Index = batch[i].Index,
                Input = batch[i].Input,
                State = batch[i].State,
                NextState = results[i].NextState,
                StateJacobian = results[i].StateJacobian,
                InputJacobian = results[i].InputJacobian,
            });
        }
    }
}

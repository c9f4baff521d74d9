using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

[Cmdlet(VerbsCommon.Get, "RnnJacobian", DefaultParameterSetName = StateSet)]
[OutputType(typeof(RnnJacobian))]
public sealed class GetRnnJacobianCommand : StateAnalysisCmdlet
{
    /// <summary>One region (its own block) or two, To and From: the block d next[To] / d state[From].</summary>
    [Parameter]
    [ValidateCount(1, 2)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    public string[]? Region { get; set; }

    private UnitRange? _to, _from;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Region is null) return;
        _to = Terminating(() => Regions.Find(Model, Region[0]), Region);
        _from = Region.Length == 2 ? Terminating(() => Regions.Find(Model, Region[1]), Region) : _to;
    }

    protected override void ProcessBatch(IReadOnlyList<PendingState> batch)
    {
        var results = Interruptible(() => Linearization.Jacobians(Model, Inputs(batch), States(batch), Precision));
        for (int i = 0; i < batch.Count; i++)   // each result is made as it is read: streamed, not held
        {
            var r = _to is null ? results[i] : Regions.Block(results[i], _to, _from!);
            WriteResult(new RnnJacobian
            {
                Index = batch[i].Index,
                SourceRow = batch[i].SourceRow,
                Trial = batch[i].Trial,
                Input = batch[i].Input,
                State = batch[i].State,
                NextState = r.NextState,
                StateJacobian = r.StateJacobian,
                InputJacobian = r.InputJacobian,
                OutputJacobian = _to is null ? Model.OutputJacobian(batch[i].State) : null,
                Region = _to is null ? null : _to == _from ? _to.Name : $"{_to.Name}<-{_from!.Name}",
            }, Model, batch[i].State, _to is null ? r.NextState : null);
        }
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Runs the network over an input sequence; one RnnState per step: Index t, State h_(t-1), Input x_t, NextState h_t, Output y_t.</summary>
[Cmdlet(VerbsCommon.Get, "RnnTrajectory", DefaultParameterSetName = SequenceSet)]
[OutputType(typeof(RnnState))]
public sealed class GetRnnTrajectoryCommand : RnnCmdlet
{
    private const string SequenceSet = "Sequence", FileSet = "File";

    [Parameter(Mandatory = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    /// <summary>One input vector per time step.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SequenceSet)]
    public double[][] InputSequence { get; set; } = null!;

    /// <summary>Inputs of several trials, [trials, steps, inputs] in a .npy (or "inputs" in an .npz): one run per trial.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    public string InputFile { get; set; } = null!;

    /// <summary>The state before the first step (of every trial); zeros when not given.</summary>
    [Parameter]
    public double[]? InitialState { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == SequenceSet)
        {
            Run(InputSequence, null, "Running");
            return;
        }
        var path = FileSystemPath(InputFile);
        var trials = Terminating(() => TrialInputs.Read(path), InputFile);
        for (int trial = 0; trial < trials.Length; trial++) Run(trials[trial], trial, $"Trial {trial + 1} of {trials.Length}:");
    }

    /// <summary>One run: an RnnState per step (Index t, State h_(t-1), Input x_t, NextState h_t, Output y_t), with its trial.</summary>
    private void Run(double[][] inputs, int? trial, string what)
    {
        int total = inputs.Length, every = Math.Max(1, total / 100);
        var activity = $"{what} {total} steps";
        var states = Terminating(() => Interruptible(report => Linearization.Trajectory(Model, inputs, InitialState, t =>
        {
            if (t % every == 0) report(new ProgressRecord(0, "Get-RnnTrajectory", activity) { PercentComplete = 100 * t / Math.Max(1, total) });
        }, StopToken)), (object?)InputFile ?? InputSequence);
        // Each record is the step taken at time t: from the state before it, under its input, to the state after it.
        var start = InitialState ?? new double[Model.StateSize];
        for (int t = 0; t < states.Length; t++)
        {
            var from = t == 0 ? start : states[t - 1];
            WriteResult(new RnnState { Index = t, Trial = trial, Input = inputs[t], State = from, NextState = states[t], Output = Model.Output(states[t]) }, Model, from, states[t]);
        }
        WriteProgress(new ProgressRecord(0, "Get-RnnTrajectory", activity) { RecordType = ProgressRecordType.Completed });
    }
}

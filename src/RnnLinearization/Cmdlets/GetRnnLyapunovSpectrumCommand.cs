using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// The Lyapunov spectrum of a model along its own trajectories (the QR method): from initial states (piped or given),
/// under a held input or an input sequence, after a warm-up; one RnnLyapunovSpectrum, or one row per exponent.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RnnLyapunovSpectrum", DefaultParameterSetName = PipelineSet)]
[OutputType(typeof(RnnLyapunovSpectrum), typeof(RnnLyapunovExponent))]
public sealed class GetRnnLyapunovSpectrumCommand : StartingStatesCmdlet
{
    /// <summary>The Core's defaults, the one source of each parameter's default.</summary>
    private static readonly LyapunovOptions Defaults = new();

    /// <summary>The input held at every step; zeros when neither this nor -InputSequence is given.</summary>
    [Parameter]
    public double[]? Input { get; set; }

    /// <summary>The input at each step (cycled when shorter than -WarmUp plus -Steps), the same for every trajectory.</summary>
    [Parameter]
    public double[][]? InputSequence { get; set; }

    /// <summary>Inputs of several trials, [trials, steps, inputs] (.npy, or "inputs" in an .npz): one trajectory per trial, each driven by its own.</summary>
    [Parameter]
    public string? InputFile { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Steps { get; set; } = Defaults.Steps;

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int WarmUp { get; set; } = Defaults.WarmUp;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OrthonormalizeEvery { get; set; } = Defaults.OrthonormalizeEvery;

    /// <summary>How many exponents (the largest); all of them when not given.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>The model's time step: rates per time unit (exponent per step / Dt) instead of per step.</summary>
    [Parameter]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double? Dt { get; set; }

    [Parameter]
    [ValidateRange(2, 100_000)]
    public int Segments { get; set; } = Defaults.Segments;

    /// <summary>Seed of the random orthonormal tangent vectors.</summary>
    [Parameter]
    public int Seed { get; set; } = Defaults.Seed;

    /// <summary>Adds each segment's exponents (LocalExponents).</summary>
    [Parameter]
    public SwitchParameter Local { get; set; }

    /// <summary>One RnnLyapunovExponent row per exponent instead of one spectrum.</summary>
    [Parameter]
    public SwitchParameter PerExponent { get; set; }

    protected override void EndProcessing()
    {
        if (new object?[] { Input, InputSequence, InputFile }.Count(x => x is not null) > 1)
            ThrowTerminatingError(Record(new RnnException("InputAndSequence", RnnErrorKind.InvalidArgument,
                "Give one of -Input (held at every step), -InputSequence (one per step) and -InputFile (one sequence per trial)."), Input));
        var starts = StartingStates;
        if (starts.Count == 0 && ParameterSetName == PipelineSet && PipedCount == 0 && !MyInvocation.ExpectingInput)
        {
            // Run alone: one trajectory from a seeded random state, as the rate-network literature starts.
            starts = FixedPoints.Starts(new[] { new double[Model.StateSize] }, 1, 0.5, Seed);
            WriteVerbose($"No initial state given: one trajectory from a random state (s.d. 0.5, -Seed {Seed}).");
        }
        if (starts.Count == 0)
            // A pipeline that brought nothing (an empty search, a filter that kept nothing) is not a request for a random start.
            ThrowTerminatingError(Record(new RnnException("NoInitialStates", RnnErrorKind.InvalidArgument,
                PipedCount == 0
                    ? "Nothing was piped in, so there is no state to start from: the command before gave no results. Pipe states, give -InitialState, or run the command alone to start from a random state (-Seed)."
                    : $"None of the {PipedCount} piped state(s) could be used (see the errors above)."), null));
        if (InputSequence is null && InputFile is null) WarnIfPipedInputsDiffer(Input ?? new double[Model.InputSize], "the spectrum");
        IReadOnlyList<double[]> drive = InputSequence ?? new[] { Input ?? new double[Model.InputSize] };
        var inputs = starts.Select(_ => drive).ToArray();
        if (InputFile is not null)
        {
            // One trajectory per trial: from its own initial state, or all from the one given (or drawn).
            var trials = Terminating(() => TrialInputs.Read(FileSystemPath(InputFile)), InputFile);
            if (starts.Count != 1 && starts.Count != trials.Length)
                ThrowTerminatingError(Record(new RnnException("TrialCountMismatch", RnnErrorKind.InvalidArgument,
                    $"{starts.Count} initial states for {trials.Length} trials: give one per trial, or one for all."), InputFile));
            if (starts.Count == 1) starts = Enumerable.Repeat(starts[0], trials.Length).ToList();
            inputs = trials.Select(t => (IReadOnlyList<double[]>)t).ToArray();
        }
        var options = new LyapunovOptions { Steps = Steps, WarmUp = WarmUp, OrthonormalizeEvery = OrthonormalizeEvery, Count = Count, Segments = Segments, Seed = Seed };
        int total = WarmUp + Steps;
        var activity = $"{starts.Count} trajector{(starts.Count == 1 ? "y" : "ies")}, {WarmUp:N0} + {Steps:N0} steps, {Count ?? Model.StateSize} exponents";
        LyapunovResult result;
        try
        {
            result = Terminating(() => Interruptible(report => Lyapunov.Spectrum(Model, starts, inputs, options, (done, all) =>
                report(new ProgressRecord(0, "Get-RnnLyapunovSpectrum", activity) { PercentComplete = (int)(100L * done / all) }), StopToken)), Model);
        }
        catch (OperationCanceledException) { return; }
        WriteProgress(new ProgressRecord(0, "Get-RnnLyapunovSpectrum", activity) { RecordType = ProgressRecordType.Completed });
        if (result.Lower.Any(double.IsNaN))
            WriteWarning($"No interval (Lower and Upper are NaN): one trajectory of {Steps} steps gives fewer than two segments with steps to compare. " +
                "Run longer (-Steps), with more -Segments, or from several initial states.");
        // The model's own time step unless -Dt says otherwise.
        double? step = Dt ?? Model.Dt;
        double dt = step ?? 1;
        double[] Scaled(double[] x) => x.Select(v => v / dt).ToArray();
        string unit = step is null ? "1/step" : "1/time";
        if (PerExponent)
        {
            for (int i = 0; i < result.Exponents.Length; i++)
                WriteObject(new RnnLyapunovExponent { Index = i, Exponent = result.Exponents[i] / dt, Lower = result.Lower[i] / dt, Upper = result.Upper[i] / dt, Unit = unit });
            return;
        }
        WriteObject(new RnnLyapunovSpectrum
        {
            Exponents = Scaled(result.Exponents),
            Lower = Scaled(result.Lower),
            Upper = Scaled(result.Upper),
            Unit = unit,
            Dt = dt,
            MaxExponent = result.Exponents.Max() / dt,
            KaplanYorkeDimension = result.KaplanYorkeDimension(Model.StateSize),
            EntropyBound = result.EntropyBound / dt,
            Sum = result.Exponents.Sum() / dt,
            Interval = result.Interval,
            Trajectories = result.Trajectories,
            Steps = Steps,
            WarmUp = WarmUp,
            OrthonormalizeEvery = OrthonormalizeEvery,
            Count = result.Exponents.Length,
            LocalExponents = Local ? result.Local.SelectMany(t => t).Select(Scaled).ToArray() : null,
        });
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Fixed and slow points of the update under a constant input, searched from starting states (piped states, or
/// -InitialState), filtered and merged, each emitted with its linearisation.
/// </summary>
[Cmdlet(VerbsCommon.Find, "RnnFixedPoint", DefaultParameterSetName = PipelineSet)]
[OutputType(typeof(RnnFixedPoint))]
public sealed class FindRnnFixedPointCommand : StartingStatesCmdlet
{
    /// <summary>The Core's defaults, the one source of each parameter's default.</summary>
    private static readonly FixedPointOptions Defaults = new();

    /// <summary>The constant input u of F(h, u); zeros when not given. Piped objects' inputs are not used.</summary>
    [Parameter]
    public double[]? Input { get; set; }

    /// <summary>With -ShardCount: which contiguous slice of the starts (after -Count and -Noise) this run searches from.</summary>
    [Parameter]
    public int Shard { get; set; }

    [Parameter]
    public int ShardCount { get; set; } = 1;

    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public int? Count { get; set; }

    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double Noise { get; set; }

    [Parameter]
    public int? Seed { get; set; }

    [Parameter]
    public FixedPointMethod Method { get; set; } = Defaults.Method;

    [Parameter, Alias("tol_q")]
    [ValidateRange(0.0, double.MaxValue)]
    public double TolQ { get; set; } = Defaults.TolQ;

    [Parameter, Alias("tol_grad")]
    [ValidateRange(0.0, double.MaxValue)]
    public double TolGrad { get; set; } = Defaults.TolGrad;

    [Parameter, Alias("tol_dq")]
    [ValidateRange(0.0, double.MaxValue)]
    public double TolDq { get; set; } = Defaults.TolDq;

    [Parameter, Alias("max_iters")]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxIterations { get; set; }

    [Parameter, Alias("lr_init")]
    [ValidateRange(double.Epsilon, double.MaxValue)]
    public double LearningRate { get; set; } = Defaults.LearningRate;

    [Parameter, Alias("lr_factor")]
    [ValidateRange(double.Epsilon, 0.999999)]
    public double LearningRateFactor { get; set; } = Defaults.LearningRateFactor;

    [Parameter, Alias("lr_patience")]
    [ValidateRange(0, int.MaxValue)]
    public int LearningRatePatience { get; set; } = Defaults.LearningRatePatience;

    [Parameter, Alias("lr_cooldown")]
    [ValidateRange(0, int.MaxValue)]
    public int LearningRateCooldown { get; set; } = Defaults.LearningRateCooldown;

    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double? MaxQ { get; set; }

    [Parameter, Alias("tol_unique")]
    [ValidateRange(0.0, double.MaxValue)]
    public double UniqueTolerance { get; set; } = Defaults.UniqueTolerance;

    [Parameter, Alias("outlier_distance_scale")]
    [ValidateRange(0.0, double.MaxValue)]
    public double OutlierDistance { get; set; } = Defaults.OutlierDistance;

    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Leaves out the probes from midpoints between the stable points found.</summary>
    [Parameter]
    public SwitchParameter NoProbes { get; set; }

    /// <summary>Each point also gets Modes: its RnnEigenMode rows with selection vectors, overlaps and gains (Get-RnnEigen -PerMode -LeftEigenvectors).</summary>
    [Parameter]
    public SwitchParameter LeftEigenvectors { get; set; }

    protected override void EndProcessing()
    {
        var input = Input ?? new double[Model.InputSize];
        WarnIfPipedInputsDiffer(input, "the search");
        Terminating(() => { Check.Input(Model, input); return 0; }, Input);
        if (StartingStates.Count == 0 && PipedCount > 0)
            ThrowTerminatingError(Record(new RnnException("NoInitialStates", RnnErrorKind.InvalidArgument,
                $"None of the {PipedCount} piped state(s) could be used (see the errors above)."), null));
        var starts = Terminating(() => FixedPoints.Starts(StartingStates, Count, Noise, Seed), Model);
        var (offset, count) = Terminating(() => Slice(ref starts), Model);
        if (count == 0)
        {
            WriteWarning($"Shard {Shard} of {ShardCount} holds no starts (there are fewer starts than shards): nothing to search.");
            return;
        }
        var options = new FixedPointOptions
        {
            Method = Method, TolQ = TolQ, TolGrad = TolGrad, TolDq = TolDq, MaxIterations = MaxIterations, LearningRate = LearningRate,
            LearningRateFactor = LearningRateFactor, LearningRatePatience = LearningRatePatience, LearningRateCooldown = LearningRateCooldown,
            MaxQ = MaxQ, UniqueTolerance = UniqueTolerance, OutlierDistance = OutlierDistance, All = All, Probes = !NoProbes,
        };
        WriteVerbose($"Searching from {starts.Length} starts with {Method} (at most {options.Iterations} iterations).");
        var activity = $"Find-RnnFixedPoint: {Method} from {starts.Length} starts";
        FixedPoint[] points;
        FixedPointSummary summary;
        try
        {
            // On a worker thread: the eigendecompositions at the points found cannot be interrupted (seconds each at large sizes).
            (points, summary) = Terminating(() => Interruptible(report => FixedPoints.FindWithSummary(Model, input, starts, options, p =>
                report(new ProgressRecord(0, activity, $"iteration {p.Iteration}: {p.Active} of {p.Total} starts still moving, largest q {p.MaxQ:0.##e+0}")
                { PercentComplete = -1 }), StopToken)), Model);
        }
        catch (OperationCanceledException) { return; }
        WriteProgress(new ProgressRecord(0, activity, "Done") { RecordType = ProgressRecordType.Completed });
        // The account of every start: always in the verbose stream and as an information record (-InformationVariable),
        // and as a warning when most starts ended nowhere.
        string account = summary.Text();
        WriteVerbose($"{account} Kept: {string.Join(", ", points.GroupBy(p => p.Kind).Select(g => $"{g.Count()} {g.Key}").DefaultIfEmpty("none"))}.");
        if (4 * summary.Failed > summary.Starts) WriteWarning(account);   // many (a quarter) ended nowhere
        WriteInformation(new InformationRecord(summary, "Find-RnnFixedPoint") { Tags = { "Summary" } });
        (EigenResult Spectrum, ModeSelection[]? Modes)[]? selections = null;
        if (LeftEigenvectors && points.Length > 0)
        {
            selections = Terminating(() => Interruptible(() => Selection.FromModel(Model, points.Select(_ => input).ToArray(), points.Select(p => p.State).ToArray(),
                EigenSort.Magnitude)), Model);
            if (selections.Count(x => x.Modes is null) is var defective && defective > 0)
                WriteWarning($"{defective} point(s) have a defective Jacobian (no basis of eigenvectors): their Modes are empty.");
            if (selections.Select((x, i) => x.Modes is null ? null : GetRnnEigenCommand.NearUnitGains($"Point {i}", x.Spectrum.Eigenvalues)).FirstOrDefault(w => w is not null) is { } nearUnit)
                WriteWarning(nearUnit);
        }
        for (int i = 0; i < points.Length; i++)
        {
            var p = points[i];
            long index = All ? offset + p.FirstStart : i;
            WriteResult(new RnnFixedPoint
            {
                Index = index,
                Input = input,
                State = p.State,
                NextState = p.NextState,
                Q = p.Q,
                Iterations = p.Iterations,
                StartCount = p.StartCount,
                FirstStart = p.FirstStart < 0 ? -1 : offset + p.FirstStart,   // -1: found by a probe
                Kind = p.Kind,
                Outcome = p.Outcome,
                Gradient = p.Gradient,
                SpectralRadius = p.Spectrum.SpectralRadius,
                IsStable = p.Kind == FixedPointKind.Stable,
                UnstableCount = p.Spectrum.UnstableCount,
                Eigenvalues = p.Spectrum.Eigenvalues,
                TimeConstants = p.TimeConstants.Select(t => t * (Model.Dt ?? 1)).ToArray(),
                SlowestTimeConstant = Spectrum.SlowestTimeConstant(p.Spectrum.Eigenvalues) * (Model.Dt ?? 1),
                UnstableModes = p.UnstableModes,
                LineAttractorScore = p.LineAttractorScore,
                Output = Model.Output(p.State),
                Modes = selections?[i].Modes is { } modes ? GetRnnEigenCommand.Modes(index, null, null, selections[i].Spectrum, modes, Model.Dt).Cast<RnnEigenModeSelection>().ToArray() : null,
                Dt = Model.Dt,
                ContinuousEigenvalues = Model.Dt is { } dt ? p.Spectrum.Eigenvalues.Select(l => Spectrum.Continuous(l, dt)).ToArray() : null,
            }, Model, p.State, p.NextState);
        }
    }

    /// <summary>
    /// This run's shard of the starts: every task of an array job draws the same starts (same states, -Count, -Noise,
    /// -Seed) and searches its own slice; with -All, Index and FirstStart are the start's number among all of them.
    /// </summary>
    private (int Offset, int Count) Slice(ref double[][] starts)
    {
        var shard = BoundShard(Shard, ShardCount);
        if (ShardCount > 1 && (Count is not null || Noise > 0) && Seed is null)
            throw new RnnException("ShardNeedsSeed", RnnErrorKind.InvalidArgument,
                "With -Count or -Noise the starts are drawn at random: give -Seed, so that every shard draws the same starts.");
        var (first, end) = shard.Slice(starts.Length);
        starts = starts[(int)first..(int)end];
        return ((int)first, starts.Length);
    }
}

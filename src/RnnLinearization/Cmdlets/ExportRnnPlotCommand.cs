using System.Management.Automation;
using System.Numerics;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Draws the module's results as a .png or .svg picture: spectra, fixed points, flow fields, trajectories, timescales.
/// Gathers the pipeline, then draws once; the kind follows from what was piped unless -Kind says.
/// </summary>
[Cmdlet(VerbsData.Export, "RnnPlot", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportRnnPlotCommand : RnnCmdlet
{
    private readonly PlotData _data = new();
    private readonly List<(long Index, List<Complex> Values, double? Dt)> _modes = new();   // -PerMode rows, one entry per state as they came
    private readonly List<double[]> _inputs = new();
    private readonly List<RnnLyapunovExponent> _exponents = new();
    private long? _lastStateIndex;
    private string? _lastStatePath;
    private int? _lastTrial;
    private string? _lastGroup;

    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    [Parameter]
    public PlotKind? Kind { get; set; }

    [Parameter]
    public string? Title { get; set; }

    [Parameter]
    [ValidateRange(100, 10000)]
    public int Width { get; set; } = 800;

    [Parameter]
    [ValidateRange(100, 10000)]
    public int Height { get; set; } = 600;

    /// <summary>Text, markers and lines scaled by this: 3 with -Width 2400 -Height 1800 gives the default picture's proportions at three times its resolution.</summary>
    [Parameter]
    [ValidateRange(0.25, 20.0)]
    public double Scale { get; set; } = 1;

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Two state-space vectors to project on (made orthonormal), instead of the principal components.</summary>
    [Parameter]
    public double[][]? Axes { get; set; }

    /// <summary>
    /// A property whose values colour the trajectories and fixed points, one colour per value: Trial (Get-RnnTrajectory
    /// -InputFile), Input (fixed points of several searches), or one of the user's own (a condition added with Add-Member).
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ColorBy { get; set; }

    private bool _grouped;

    /// <summary>The value of -ColorBy's property on a piped object, as text (arrays as (a, b, c)); null where it has none.</summary>
    private string? Group(object? value)
    {
        value = value is PSObject o ? o.BaseObject : value;
        if (value is null) return null;
        _grouped = true;
        return value switch
        {
            double[] v => RnnPlot.Format(v),
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
    }

    private string? GroupOf() => ColorBy is null ? null : Group(InputObject.Properties[ColorBy]?.Value);

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        switch (InputObject.BaseObject)
        {
            case RnnEigen e:
                _data.Spectra.Add(new PlotSpectrum(e.Region is null ? $"state {e.Index}" : $"state {e.Index} ({e.Region})", e.Index, e.Eigenvalues, e.Dt));
                break;
            case RnnEigenMode m:
                // A state's rows come together: a new state where the index changes or the modes start again (a second trajectory).
                if (_modes.Count == 0 || _modes[^1].Index != m.Index || m.Mode == 0) _modes.Add((m.Index, new List<Complex>(), m.Dt));
                _modes[^1].Values.Add(new Complex(m.Real, m.Imaginary));
                break;
            case RnnFixedPoint p:
                _inputs.Add(p.Input);
                _data.FixedPoints.Add(new PlotFixedPoint(p.State, p.IsStable, p.UnstableModes));
                _data.FixedPointGroups.Add(GroupOf());
                _data.Spectra.Add(new PlotSpectrum($"fixed point {p.Index} ({p.Kind})", p.Index, p.Eigenvalues, p.Dt));
                break;
            case RnnBranchPoint b:
                _data.Branches.Add(new PlotBranchPoint(b.Branch, b.Parameter, b.State, b.Output, b.IsStable, b.Event, b.ParameterName));
                break;
            case RnnFixedPointEdge g:
                _data.Edges.Add(g.Path);
                break;
            case RnnFlowPoint f:
                _inputs.Add(f.Input);
                _data.Flow.Add(new FlowPoint(f.X, f.Y, f.VX, f.VY, f.Speed, f.State, f.Velocity));
                break;
            case RnnState s:
                AddState(s);
                break;
            case RnnLyapunovSpectrum l:
                _data.Lyapunov.Add(new PlotLyapunov($"KY dimension {l.KaplanYorkeDimension:0.##}, {l.Trajectories} trajector{(l.Trajectories == 1 ? "y" : "ies")} x {l.Steps:N0} steps",
                    l.Exponents, l.Lower, l.Upper, l.Unit));
                break;
            case RnnLyapunovExponent x:
                _exponents.Add(x);
                break;
            default:
                WriteError(Record(new RnnException("UnsupportedPlotInput", RnnErrorKind.InvalidArgument,
                    $"Export-RnnPlot draws RnnEigen, RnnEigenMode, RnnFixedPoint, RnnFixedPointEdge, RnnBranchPoint, RnnFlowPoint, RnnState and Lyapunov spectra, not {InputObject.BaseObject.GetType().Name}."),
                    InputObject));
                break;
        }
    }

    /// <summary>
    /// States in order form a trajectory; a new one starts where the index does not grow (a second run) or the file
    /// changes. A trajectory step (State, NextState) adds its start once, then every NextState.
    /// </summary>
    private void AddState(RnnState s)
    {
        var group = GroupOf();
        bool continues = _lastStateIndex is long last && s.Index > last && s.Path == _lastStatePath && s.Trial == _lastTrial && group == _lastGroup
            && _data.Trajectories.Count > 0;
        if (!continues)
        {
            _data.Trajectories.Add(new List<double[]>());
            _data.TrajectoryGroups.Add(group);
        }
        _lastGroup = group;
        var trajectory = _data.Trajectories[^1];
        if (s.NextState is null) trajectory.Add(s.State);
        else
        {
            if (!continues) trajectory.Add(s.State);
            trajectory.Add(s.NextState);
        }
        (_lastStateIndex, _lastStatePath, _lastTrial) = (s.Index, s.Path, s.Trial);
    }

    protected override void EndProcessing()
    {
        // Rows of -PerExponent: a new spectrum starts where the index does not grow (a second run piped after the first).
        for (int first = 0; first < _exponents.Count;)
        {
            int end = first + 1;
            while (end < _exponents.Count && _exponents[end].Index > _exponents[end - 1].Index) end++;
            var rows = _exponents.Skip(first).Take(end - first).ToList();
            _data.Lyapunov.Add(new PlotLyapunov($"{rows.Count} exponents", rows.Select(x => x.Exponent).ToArray(), rows.Select(x => x.Lower).ToArray(),
                rows.Select(x => x.Upper).ToArray(), rows[0].Unit));
            first = end;
        }
        foreach (var (index, values, dt) in _modes)
            _data.Spectra.Add(new PlotSpectrum($"state {index}", index, values.ToArray(), dt));
        if (_inputs.Count > 0 && _inputs.All(u => u is not null && u.SequenceEqual(_inputs[0]))) _data.Input = _inputs[0];
        var path = FileSystemPath(Path);
        var kind = Kind ?? Terminating(() => RnnPlot.Infer(_data), InputObject);
        _data.Axes = Axes;
        _data.ColorBy = ColorBy;
        if (Axes is not null && kind is not (PlotKind.FixedPoints or PlotKind.Trajectory))
            WriteWarning($"-Axes applies to the FixedPoints and Trajectory pictures, not {kind}" + (kind == PlotKind.FlowField ? " (give Get-RnnFlowField -Axes)." : "."));
        if (ColorBy is not null && (!_grouped || kind is not (PlotKind.FixedPoints or PlotKind.Trajectory)))
            WriteWarning($"-ColorBy {ColorBy} colours trajectories (RnnState) and fixed points (RnnFixedPoint) that have a {ColorBy} property, in the Trajectory and FixedPoints pictures; " +
                "none here has one." + (_grouped ? "" : " (Trial comes from Get-RnnTrajectory -InputFile, Input from Find-RnnFixedPoint; add your own with Add-Member.)"));
        WriteVerbose($"Drawing {kind} into {path}.");
        if (NoClobber && File.Exists(path))
            ThrowTerminatingError(Record(new RnnException("PlotFileExists", RnnErrorKind.WriteError, $"'{path}' exists and -NoClobber was given."), path));
        if (!ShouldProcess(path, $"Draw {kind}")) return;
        Terminating(() => { RnnPlot.Save(_data, kind, path, Title, Width, Height, NoClobber ? "PlotFileExists" : null, Scale); return 0; }, path);
        if (PassThru) WriteObject(new FileInfo(path));
    }
}

using System.Numerics;
using System.Text;
using ScottPlot;

namespace RnnLinearization.Core;

public enum PlotKind
{
    /// <summary>Eigenvalues on the complex plane with the unit circle, one colour per state.</summary>
    Spectrum,
    /// <summary>Fixed points in the plane of their first two principal components; stable filled, unstable hollow.</summary>
    FixedPoints,
    /// <summary>Arrows of a flow field, speed as colour.</summary>
    FlowField,
    /// <summary>States over time in the plane of their first two principal components, coloured by time.</summary>
    Trajectory,
    /// <summary>Spectral radius and slowest time constant against the state's index.</summary>
    Timescales,
    /// <summary>Lyapunov exponents against their index, with their 95% interval and the zero line.</summary>
    Lyapunov,
    /// <summary>A bifurcation diagram: the input path's parameter against the readout (or the states' first principal component), stable solid, unstable dashed.</summary>
    Bifurcation,
}

/// <summary>A point of a followed branch as drawn (Trace-RnnFixedPoint).</summary>
public sealed record PlotBranchPoint(int Branch, double Parameter, double[] State, double[]? Output, bool IsStable, BifurcationKind Event, string ParameterName = "");

/// <summary>A Lyapunov spectrum as drawn: its label, exponents (largest first), their interval and unit.</summary>
public sealed record PlotLyapunov(string Label, double[] Exponents, double[] Lower, double[] Upper, string Unit);

/// <summary>A fixed point as drawn: its state, whether it is stable, and the real vectors of its unstable modes.</summary>
public sealed record PlotFixedPoint(double[] State, bool IsStable, double[][] UnstableModes);

/// <summary>
/// A state's spectrum as drawn: its label, its eigenvalues, its index for the timescale plot, and the model's time step
/// when it has one (time constants are then in its unit).
/// </summary>
public sealed record PlotSpectrum(string Label, long Index, Complex[] Eigenvalues, double? Dt = null);

/// <summary>What a picture is drawn from: plain arrays gathered from the pipeline, in the order they came.</summary>
public sealed class PlotData
{
    public List<PlotSpectrum> Spectra { get; } = new();
    public List<PlotFixedPoint> FixedPoints { get; } = new();
    public List<FlowPoint> Flow { get; } = new();
    public List<PlotLyapunov> Lyapunov { get; } = new();

    /// <summary>The input the analysis held, when every fixed point or grid point drawn shares one: said in the title.</summary>
    public double[]? Input { get; set; }

    /// <summary>Each trajectory as its states in time order.</summary>
    public List<List<double[]>> Trajectories { get; } = new();

    /// <summary>With <see cref="ColorBy"/>: each trajectory's group (its trial, its condition), or null.</summary>
    public List<string?> TrajectoryGroups { get; } = new();

    /// <summary>With <see cref="ColorBy"/>: each fixed point's group (its input, its condition), or null.</summary>
    public List<string?> FixedPointGroups { get; } = new();

    /// <summary>Two axes to project on (made orthonormal, through the states' mean) instead of the principal components.</summary>
    public double[][]? Axes { get; set; }

    /// <summary>
    /// The property that colours trajectories and fixed points, one colour per value (Trial, Input, or one of the
    /// user's own such as a condition); null: trajectories by time, fixed points by stability.
    /// </summary>
    public string? ColorBy { get; set; }

    /// <summary>Points of followed branches, in the order they came.</summary>
    public List<PlotBranchPoint> Branches { get; } = new();

    /// <summary>Runs off saddles (Get-RnnFixedPointGraph): each one's states along the way.</summary>
    public List<double[][]> Edges { get; } = new();
}

/// <summary>
/// Pictures of the analysis, drawn with ScottPlot and written as .png or .svg (atomically). Projections to a plane use
/// the first two principal components of the states that define the picture.
/// </summary>
public static class RnnPlot
{
    /// <summary>Up to this many spectra are overlaid (told apart by colour); more are drawn as timescales along the index.</summary>
    public const int MaxOverlaidSpectra = 8;

    /// <summary>The picture the data asks for: a flow field, else fixed points, else spectra (timescales when many), else a trajectory.</summary>
    public static PlotKind Infer(PlotData data) =>
        data.Branches.Count > 0 ? PlotKind.Bifurcation
        : data.Lyapunov.Count > 0 ? PlotKind.Lyapunov
        : data.Flow.Count > 0 ? PlotKind.FlowField
        : data.FixedPoints.Count > 0 || data.Edges.Count > 0 ? PlotKind.FixedPoints
        : data.Spectra.Count > MaxOverlaidSpectra ? PlotKind.Timescales
        : data.Spectra.Count > 0 ? PlotKind.Spectrum
        : data.Trajectories.Count > 0 ? PlotKind.Trajectory
        : throw new RnnException("NoPlotData", RnnErrorKind.InvalidArgument,
            "Nothing to draw: pipe the module's results (Get-RnnEigen, Find-RnnFixedPoint, Get-RnnFlowField, Get-RnnTrajectory, Import-RnnState, Get-RnnLyapunovSpectrum).");

    /// <summary>Draws <paramref name="kind"/> and writes it to <paramref name="path"/> (.png or .svg, by its extension).</summary>
    /// <param name="scale">Text, markers and lines scaled by this (2 for a figure drawn at twice the size, to be printed at the size of the default).</param>
    public static void Save(PlotData data, PlotKind kind, string path, string? title, int width, int height, string? noClobberId = null, double scale = 1)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
            throw new RnnException("PlotExtension", RnnErrorKind.InvalidArgument,
                $"Export-RnnPlot writes .png or .svg; name the file so, not '{Path.GetFileName(path)}'.");
        if (width is < 100 or > 10000 || height is < 100 or > 10000)
            throw new RnnException("InvalidPlotSize", RnnErrorKind.InvalidArgument, $"Width and height are 100 to 10,000 pixels, not {width} x {height}.");
        if (!(scale is >= 0.25 and <= 20))
            throw new RnnException("InvalidPlotScale", RnnErrorKind.InvalidArgument, $"The scale is 0.25 to 20, not {scale}.");
        var plot = Draw(data, kind);
        plot.ScaleFactor = scale;
        plot.Title(title ?? DefaultTitle(kind, data));
        byte[] bytes = extension == ".png"
            ? plot.GetImageBytes(width, height, ImageFormat.Png)
            : Encoding.UTF8.GetBytes(plot.GetSvgXml(width, height));
        AtomicFile.Write(path, stream => stream.Write(bytes), noClobberId);
    }

    private static Plot Draw(PlotData data, PlotKind kind) => kind switch
    {
        PlotKind.Spectrum => DrawSpectrum(Need(data.Spectra, kind, "eigenvalues (Get-RnnEigen or Find-RnnFixedPoint)")),
        PlotKind.FixedPoints => DrawFixedPoints(Need(data.FixedPoints, kind, "RnnFixedPoint objects (Find-RnnFixedPoint)"), data),
        PlotKind.FlowField => DrawFlowField(Need(data.Flow, kind, "RnnFlowPoint objects (Get-RnnFlowField)"), data.FixedPoints, data.Trajectories),
        PlotKind.Trajectory => DrawTrajectory(Need(data.Trajectories, kind, "states (Get-RnnTrajectory or Import-RnnState)"), data),
        PlotKind.Timescales => DrawTimescales(Need(data.Spectra, kind, "eigenvalues (Get-RnnEigen or Find-RnnFixedPoint)")),
        PlotKind.Lyapunov => DrawLyapunov(Need(data.Lyapunov, kind, "Lyapunov spectra (Get-RnnLyapunovSpectrum)")),
        PlotKind.Bifurcation => DrawBifurcation(Need(data.Branches, kind, "RnnBranchPoint objects (Trace-RnnFixedPoint)")),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static List<T> Need<T>(List<T> items, PlotKind kind, string what) => items.Count > 0 ? items
        : throw new RnnException("PlotInputMissing", RnnErrorKind.InvalidArgument, $"-Kind {kind} draws {what}; none were piped.");

    private static string DefaultTitle(PlotKind kind, PlotData data) => kind switch
    {
        PlotKind.Spectrum => data.Spectra.Count == 1 ? $"Eigenvalues at {data.Spectra[0].Label}" : $"Eigenvalues at {data.Spectra.Count} states",
        PlotKind.FixedPoints => (data.Edges.Count > 0 ? "Graph of " : "") +
            $"{Count(data.FixedPoints.Count, "fixed point")} ({data.FixedPoints.Count(p => p.IsStable)} stable){AtInput(data)}",
        PlotKind.FlowField => $"Flow field F(h) - h{AtInput(data)}",
        PlotKind.Trajectory => data.Trajectories.Count == 1 ? $"Trajectory of {data.Trajectories[0].Count} states" : $"{data.Trajectories.Count} trajectories",
        PlotKind.Bifurcation => (data.Branches.Select(b => b.Branch).Distinct().Count() is var n && n == 1 ? "1 branch, " : $"{n} branches, ") +
            $"{Count(data.Branches.Count(b => b.Event != BifurcationKind.None), "bifurcation")}",
        PlotKind.Lyapunov => data.Lyapunov.Count == 1 ? $"Lyapunov spectrum ({data.Lyapunov[0].Label})" : $"{data.Lyapunov.Count} Lyapunov spectra",
        _ => $"Spectral radius and slowest time constant at {data.Spectra.Count} states" +
            (Runs(data.Spectra) > 1 ? $" ({Runs(data.Spectra)} runs)" : ""),
    };

    private static int Runs(List<PlotSpectrum> spectra) => 1 + Enumerable.Range(1, Math.Max(0, spectra.Count - 1)).Count(i => spectra[i].Index <= spectra[i - 1].Index);

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string AtInput(PlotData data) => data.Input is { } u ? $" at input {Format(u)}" : "";

    /// <summary>A vector as pictures show it: (0.2, 0, 0).</summary>
    public static string Format(double[] v) =>
        "(" + string.Join(", ", v.Select(x => x.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))) + ")";

    // ---- the pictures ----

    private static Plot DrawSpectrum(List<PlotSpectrum> spectra)
    {
        var plot = new Plot();
        var circle = plot.Add.Circle(0, 0, 1);
        circle.LineColor = Colors.Gray;   // solid: dashes become path effects that Skia's SVG writer cannot express
        circle.FillColor = Colors.Transparent;
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < spectra.Count; i++)
        {
            var e = spectra[i].Eigenvalues;
            var marks = plot.Add.Markers(e.Select(l => l.Real).ToArray(), e.Select(l => l.Imaginary).ToArray(),
                MarkerShape.FilledCircle, 7, palette.GetColor(i).WithAlpha(0.8));
            marks.LegendText = spectra[i].Label;
        }
        plot.XLabel("Re λ");
        plot.YLabel("Im λ");
        plot.Axes.SquareUnits();
        ShowLegend(plot, Edge.Right);   // outside the axes: it never hides a point
        return plot;
    }

    private static Plot DrawFixedPoints(List<PlotFixedPoint> points, PlotData data)
    {
        var (trajectories, edges) = (data.Trajectories, data.Edges);
        var plane = trajectories.Sum(t => t.Count) >= 2
            ? Plane.For(trajectories.SelectMany(t => t).ToList(), data.Axes)
            : Plane.For(points.Select(p => p.State).ToList(), data.Axes);
        var plot = new Plot();
        var colors = data.ColorBy is not null ? new GroupColors(data) : null;
        if (colors is not null && data.TrajectoryGroups.Any(g => g is not null)) DrawGroups(plot, plane, data, colors);
        else DrawTrajectories(plot, plane, trajectories, Colors.LightGray);
        // The runs off the saddles under the points: the graph's edges, each the path it took.
        for (int i = 0; i < edges.Count; i++)
        {
            var path = edges[i].Select(plane.Project).ToArray();
            var line = plot.Add.ScatterLine(path.Select(p => p.X).ToArray(), path.Select(p => p.Y).ToArray(), Colors.SteelBlue.WithAlpha(0.7));
            line.LineWidth = 1.5f;
            if (i == 0) line.LegendText = "runs off saddles";
        }
        var xy = points.Select(p => plane.Project(p.State)).ToArray();
        double span = Span(xy.Concat(trajectories.SelectMany(t => t).Select(plane.Project)).Concat(edges.SelectMany(e => e).Select(plane.Project)));
        // Each unstable mode as a segment through its point: its direction in the plane, a tenth of the picture long.
        for (int i = 0; i < points.Count; i++)
            foreach (var mode in points[i].UnstableModes)
            {
                var (dx, dy) = plane.Direction(mode);
                var line = plot.Add.Line(xy[i].X - 0.05 * span * dx, xy[i].Y - 0.05 * span * dy, xy[i].X + 0.05 * span * dx, xy[i].Y + 0.05 * span * dy);
                line.LineColor = Colors.FireBrick;
                line.LineWidth = 2;
                line.MarkerSize = 0;
            }
        if (colors is not null && data.FixedPointGroups.Any(g => g is not null)) AddPointsByGroup(plot, xy, points, data, colors);
        else AddPoints(plot, xy, points, legend: true, modes: true);
        plot.XLabel(plane.XLabel);
        plot.YLabel(plane.YLabel);
        if (colors is not null) colors.Finish(plot);
        else ShowLegend(plot, Edge.Right);
        return plot;
    }

    private static Plot DrawFlowField(List<FlowPoint> flow, List<PlotFixedPoint> points, List<List<double[]>> trajectories)
    {
        var plane = Plane.OfGrid(flow);
        var plot = new Plot();
        // Arrows of one length (0.8 of a grid cell) show the direction in the plane; the colour shows the speed, whose
        // range (often 100-fold) would leave most arrows too short to see.
        double cellX = GridSpacing(flow.Select(f => f.X)), cellY = GridSpacing(flow.Select(f => f.Y));
        var colormap = new ScottPlot.Colormaps.Viridis();
        double slow = flow.Min(f => f.Speed), fast = flow.Max(f => f.Speed);
        foreach (var f in flow)
        {
            double length = Math.Sqrt(f.VX / cellX * (f.VX / cellX) + f.VY / cellY * (f.VY / cellY));
            if (!(length > 0)) continue;
            var color = colormap.GetColor(fast > slow ? (f.Speed - slow) / (fast - slow) : 0.5);
            var arrow = plot.Add.Arrow(f.X - 0.4 * f.VX / length, f.Y - 0.4 * f.VY / length, f.X + 0.4 * f.VX / length, f.Y + 0.4 * f.VY / length);
            arrow.ArrowLineColor = color;
            arrow.ArrowFillColor = color;
            arrow.ArrowWidth = 1.2f;
            arrow.ArrowheadWidth = 5;
            arrow.ArrowheadLength = 5;
            arrow.ArrowMinimumLength = 0;
        }
        var bar = plot.Add.ColorBar(new ColorScale(colormap, slow, fast), Edge.Right);
        bar.Label = "speed |F(h) - h|";
        DrawTrajectories(plot, plane, trajectories, Colors.DimGray);
        if (points.Count > 0)
        {
            AddPoints(plot, points.Select(p => plane.Project(p.State)).ToArray(), points, legend: true, modes: false);
            ShowLegend(plot, Edge.Bottom);   // the colour bar has the right
        }
        plot.XLabel("plane axis 1");
        plot.YLabel("plane axis 2");
        return plot;
    }

    private static Plot DrawTrajectory(List<List<double[]>> trajectories, PlotData data)
    {
        var all = trajectories.SelectMany(t => t).ToList();
        var plane = Plane.For(all, data.Axes);
        var plot = new Plot();
        if (data.ColorBy is not null && data.TrajectoryGroups.Any(g => g is not null))
        {
            var colors = new GroupColors(data);
            DrawGroups(plot, plane, data, colors);
            plot.XLabel(plane.XLabel);
            plot.YLabel(plane.YLabel);
            colors.Finish(plot);
            return plot;
        }
        var colormap = new ScottPlot.Colormaps.Viridis();
        int longest = trajectories.Max(t => t.Count);
        foreach (var t in trajectories)
        {
            var xy = t.Select(plane.Project).ToArray();
            for (int k = 1; k < xy.Length; k++)
            {
                var line = plot.Add.Line(xy[k - 1].X, xy[k - 1].Y, xy[k].X, xy[k].Y);
                line.LineColor = colormap.GetColor(longest > 1 ? (k - 0.5) / (longest - 1) : 0);
                line.LineWidth = 2;
                line.MarkerSize = 0;
            }
            var start = plot.Add.Marker(xy[0].X, xy[0].Y, MarkerShape.OpenCircle, 10, Colors.Black);
            start.LegendText = ReferenceEquals(t, trajectories[0]) ? "start" : "";
        }
        var bar = plot.Add.ColorBar(new ColorScale(colormap, 0, Math.Max(1, longest - 1)), Edge.Right);
        bar.Label = "step";
        plot.XLabel(plane.XLabel);
        plot.YLabel(plane.YLabel);
        ShowLegend(plot, Edge.Bottom);
        return plot;
    }

    /// <summary>
    /// The bifurcation diagram: each branch as lines of its points in order, solid where stable and dashed where not,
    /// against the path parameter; the readout's first output on the vertical axis (else the states' first principal
    /// component); bifurcations as markers, one legend entry per kind.
    /// </summary>
    private static Plot DrawBifurcation(List<PlotBranchPoint> points)
    {
        bool readout = points.All(p => p.Output is { Length: > 0 }), scalar = points[0].State.Length == 1;
        var plane = readout || scalar ? null : Plane.Principal(points.Select(p => p.State).ToList());
        double Y(PlotBranchPoint p) => readout ? p.Output![0] : scalar ? p.State[0] : plane!.Project(p.State).X;
        var plot = new Plot();
        bool stableShown = false, unstableShown = false;
        foreach (var branch in points.GroupBy(p => p.Branch))   // located bifurcations included: the line turns at a fold
        {
            var list = branch.ToList();
            for (int start = 0; start < list.Count - 1;)
            {
                // A run of equal stability, joined to the next point so that the line has no gap where it changes.
                int end = start + 1;
                while (end < list.Count - 1 && list[end].IsStable == list[start].IsStable) end++;
                var run = list.GetRange(start, end - start + 1);
                var line = plot.Add.ScatterLine(run.Select(p => p.Parameter).ToArray(), run.Select(Y).ToArray(),
                    list[start].IsStable ? Colors.Black : Colors.FireBrick);
                line.LineWidth = 2;
                line.MarkerSize = 0;
                if (!list[start].IsStable) line.LinePattern = LinePattern.Dashed;
                if (list[start].IsStable && !stableShown) { line.LegendText = "stable"; stableShown = true; }
                if (!list[start].IsStable && !unstableShown) { line.LegendText = "unstable"; unstableShown = true; }
                start = end;
            }
        }
        var shapes = new Dictionary<BifurcationKind, (MarkerShape Shape, Color Color, string Label)>
        {
            [BifurcationKind.Fold] = (MarkerShape.FilledDiamond, Colors.RoyalBlue, "fold"),
            [BifurcationKind.BranchPoint] = (MarkerShape.FilledSquare, Colors.DarkOrange, "branch point"),
            [BifurcationKind.Flip] = (MarkerShape.FilledTriangleUp, Colors.SeaGreen, "flip"),
            [BifurcationKind.NeimarkSacker] = (MarkerShape.FilledCircle, Colors.MediumPurple, "Neimark-Sacker"),
        };
        foreach (var group in points.Where(p => p.Event != BifurcationKind.None).GroupBy(p => p.Event))
        {
            var (shape, color, label) = shapes[group.Key];
            var marks = plot.Add.Markers(group.Select(p => p.Parameter).ToArray(), group.Select(Y).ToArray(), shape, 11, color);
            marks.LegendText = label;
        }
        plot.XLabel(points[0].ParameterName is { Length: > 0 } name ? name : "path parameter");
        plot.YLabel(readout ? "readout output 0" : scalar ? "h" : plane!.XLabel);
        ShowLegend(plot, Edge.Right);
        return plot;
    }

    /// <summary>Each spectrum's exponents against their index (1 = largest), the interval as error bars, and zero.</summary>
    private static Plot DrawLyapunov(List<PlotLyapunov> spectra)
    {
        var plot = new Plot();
        var zero = plot.Add.HorizontalLine(0);
        zero.LineColor = Colors.Gray;
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < spectra.Count; i++)
        {
            var l = spectra[i];
            var x = Enumerable.Range(1, l.Exponents.Length).Select(k => (double)k).ToArray();
            var color = palette.GetColor(i);
            var finite = Enumerable.Range(0, x.Length).Where(k => double.IsFinite(l.Lower[k]) && double.IsFinite(l.Upper[k])).ToArray();
            if (finite.Length > 0)
            {
                // The interval is symmetric (mean +- t s / sqrt(n)): its half-width.
                var bars = plot.Add.ErrorBar(finite.Select(k => x[k]).ToArray(), finite.Select(k => l.Exponents[k]).ToArray(),
                    finite.Select(k => 0.5 * (l.Upper[k] - l.Lower[k])).ToArray());
                bars.Color = color;
            }
            var marks = plot.Add.Markers(x, l.Exponents, MarkerShape.FilledCircle, l.Exponents.Length > 200 ? 3 : 6, color);
            if (spectra.Count > 1) marks.LegendText = l.Label;   // one spectrum: the title says it
        }
        plot.XLabel("exponent index (1 = largest)");
        plot.YLabel($"Lyapunov exponent ({spectra[0].Unit})");
        if (spectra.Count > 1) ShowLegend(plot, Edge.Right);
        return plot;
    }

    /// <summary>
    /// Spectral radius and slowest time constant against the index, one line per run: a run is the spectra in the order
    /// they came while the index grows (several trajectories piped one after another are several runs).
    /// </summary>
    private static Plot DrawTimescales(List<PlotSpectrum> spectra)
    {
        var runs = new List<List<PlotSpectrum>>();
        foreach (var sp in spectra)
        {
            if (runs.Count == 0 || sp.Index <= runs[^1][^1].Index) runs.Add(new List<PlotSpectrum>());
            runs[^1].Add(sp);
        }
        // In the model's time unit when every spectrum has the same time step, else in steps.
        double? dt = spectra.Select(sp => sp.Dt).Distinct().ToList() is { Count: 1 } steps ? steps[0] : null;
        var plot = new Plot();
        var one = plot.Add.HorizontalLine(1.0);
        one.LineColor = Colors.Gray;
        foreach (var run in runs)
        {
            var x = run.Select(s => (double)s.Index).ToArray();
            var radius = run.Select(s => s.Eigenvalues.Length == 0 ? 0 : s.Eigenvalues.Max(l => l.Magnitude)).ToArray();
            var slowest = run.Select(s => (dt ?? 1) * Core.Spectrum.SlowestTimeConstant(s.Eigenvalues)).ToArray();
            var r = plot.Add.Scatter(x, radius, Colors.SteelBlue);
            if (ReferenceEquals(run, runs[0])) r.LegendText = "spectral radius (left)";
            r.MarkerSize = 4;
            var finite = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(slowest[i])).ToArray();
            if (finite.Length == 0) continue;
            var tau = plot.Add.Scatter(finite.Select(i => x[i]).ToArray(), finite.Select(i => slowest[i]).ToArray(), Colors.DarkOrange);
            if (ReferenceEquals(run, runs[0])) tau.LegendText = "slowest time constant (right)";
            tau.MarkerSize = 4;
            tau.Axes.YAxis = plot.Axes.Right;
        }
        plot.XLabel("index");
        plot.YLabel("spectral radius");
        plot.Axes.Right.Label.Text = dt is { } unit ? $"slowest time constant (time units; Dt = {unit:G4})" : "slowest time constant (steps)";
        ShowLegend(plot, Edge.Bottom);
        return plot;
    }

    // ---- shared pieces ----

    private static void AddPoints(Plot plot, (double X, double Y)[] xy, List<PlotFixedPoint> points, bool legend, bool modes)
    {
        var stable = Enumerable.Range(0, points.Count).Where(i => points[i].IsStable).ToArray();
        var unstable = Enumerable.Range(0, points.Count).Where(i => !points[i].IsStable).ToArray();
        if (stable.Length > 0)
        {
            var m = plot.Add.Markers(stable.Select(i => xy[i].X).ToArray(), stable.Select(i => xy[i].Y).ToArray(), MarkerShape.FilledCircle, 11, Colors.Black);
            if (legend) m.LegendText = "stable";
        }
        if (unstable.Length > 0)
        {
            var m = plot.Add.Markers(unstable.Select(i => xy[i].X).ToArray(), unstable.Select(i => xy[i].Y).ToArray(), MarkerShape.OpenCircle, 11, Colors.FireBrick);
            m.MarkerLineWidth = 2;
            if (legend) m.LegendText = modes ? "unstable (with its unstable modes)" : "unstable";
        }
    }

    /// <summary>
    /// The legend on an edge, where something has a legend text: ScottPlot 5.1 renders a picture with a legend on an
    /// edge but no entries as a blank page (seen with eleven groups along a colour bar).
    /// </summary>
    private static void ShowLegend(Plot plot, Edge edge)
    {
        if (plot.GetPlottables().Any(p => p.LegendItems.Any(i => !string.IsNullOrEmpty(i.LabelText)))) plot.ShowLegend(edge);
    }

    /// <summary>Groups in the legend one by one up to this many; more numeric ones are coloured along a colour bar.</summary>
    private const int MaxLegendGroups = 10;

    /// <summary>The groups in order: by value where all are numbers (trials), else by text.</summary>
    private static List<string> Ordered(IEnumerable<string> groups)
    {
        var distinct = groups.Distinct().ToList();
        return distinct.All(g => double.TryParse(g, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
            ? distinct.OrderBy(g => double.Parse(g, System.Globalization.CultureInfo.InvariantCulture)).ToList()
            : distinct.OrderBy(g => g, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// One colour per -ColorBy value, shared by trajectories and fixed points: the palette's, by rank, for up to
    /// MaxLegendGroups values or for values that are not all numbers (each in the legend once); more numeric values
    /// along a colour bar, by value.
    /// </summary>
    private sealed class GroupColors
    {
        private static readonly ScottPlot.Palettes.Category10 Palette = new();
        private static readonly ScottPlot.Colormaps.Turbo Colormap = new();
        private readonly List<string> _distinct;
        private readonly double _low, _span;
        private readonly HashSet<string> _labelled = new();
        private readonly string? _name;

        public GroupColors(PlotData data)
        {
            _name = data.ColorBy;
            _distinct = Ordered(data.TrajectoryGroups.Concat(data.FixedPointGroups).Select(g => g ?? "none"));
            bool numeric = _distinct.All(g => double.TryParse(g, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
            Legend = _distinct.Count <= MaxLegendGroups || !numeric;
            if (!Legend) (_low, _span) = (Value(_distinct[0]), Value(_distinct[^1]) - Value(_distinct[0]));
        }

        /// <summary>Whether the groups are in the legend (else along a colour bar, which takes the right edge).</summary>
        public bool Legend { get; }

        private static double Value(string g) => double.Parse(g, System.Globalization.CultureInfo.InvariantCulture);

        public Color Of(string group) => Legend ? Palette.GetColor(_distinct.IndexOf(group))
            : Colormap.GetColor(_span > 0 ? (Value(group) - _low) / _span : 0.5);

        /// <summary>The legend text for the first plottable of a group, once per group; empty after, or along a colour bar.</summary>
        public string Label(string group) => Legend && _labelled.Count < MaxLegendGroups && _labelled.Add(group) ? $"{_name} {group}" : "";

        /// <summary>The colour bar, when the groups are along one; and the legend, on the edge the bar leaves free.</summary>
        public void Finish(Plot plot)
        {
            if (!Legend)
            {
                var bar = plot.Add.ColorBar(new ColorScale(Colormap, _low, _low + _span), Edge.Right);
                bar.Label = _name ?? "";
            }
            ShowLegend(plot, Legend ? Edge.Right : Edge.Bottom);
        }
    }

    /// <summary>Each trajectory in its group's colour (-ColorBy), its start marked with a hollow circle.</summary>
    private static void DrawGroups(Plot plot, Plane plane, PlotData data, GroupColors colors)
    {
        var groups = data.TrajectoryGroups.Select(g => g ?? "none").ToList();
        for (int i = 0; i < data.Trajectories.Count; i++)
        {
            var color = colors.Of(groups[i]);
            var xy = data.Trajectories[i].Select(plane.Project).ToArray();
            var line = plot.Add.ScatterLine(xy.Select(p => p.X).ToArray(), xy.Select(p => p.Y).ToArray(), color);
            line.LineWidth = 1.5f;
            line.LegendText = colors.Label(groups[i]);
            plot.Add.Marker(xy[0].X, xy[0].Y, MarkerShape.OpenCircle, 7, color);
        }
    }

    /// <summary>Fixed points in their group's colour (-ColorBy Input, or a property of the user's): stable filled, unstable hollow.</summary>
    private static void AddPointsByGroup(Plot plot, (double X, double Y)[] xy, List<PlotFixedPoint> points, PlotData data, GroupColors colors)
    {
        var groups = Enumerable.Range(0, points.Count).Select(i => data.FixedPointGroups.Count > i ? data.FixedPointGroups[i] ?? "none" : "none").ToList();
        foreach (var group in Ordered(groups))
        {
            var color = colors.Of(group);
            var members = Enumerable.Range(0, points.Count).Where(i => groups[i] == group).ToArray();
            var stable = members.Where(i => points[i].IsStable).ToArray();
            var unstable = members.Where(i => !points[i].IsStable).ToArray();
            var first = plot.Add.Markers(stable.Select(i => xy[i].X).ToArray(), stable.Select(i => xy[i].Y).ToArray(), MarkerShape.FilledCircle, 11, color);
            first.LegendText = colors.Label(group);
            var hollow = plot.Add.Markers(unstable.Select(i => xy[i].X).ToArray(), unstable.Select(i => xy[i].Y).ToArray(), MarkerShape.OpenCircle, 11, color);
            hollow.MarkerLineWidth = 2;
        }
    }

    private static void DrawTrajectories(Plot plot, Plane plane, List<List<double[]>> trajectories, Color color)
    {
        for (int i = 0; i < trajectories.Count; i++)
        {
            var xy = trajectories[i].Select(plane.Project).ToArray();
            var line = plot.Add.ScatterLine(xy.Select(p => p.X).ToArray(), xy.Select(p => p.Y).ToArray(), color);
            line.LineWidth = 1.5f;
            if (i == 0) line.LegendText = "trajectories";
        }
    }

    private static double Span(IEnumerable<(double X, double Y)> points)
    {
        var list = points.ToList();
        double sx = list.Max(p => p.X) - list.Min(p => p.X), sy = list.Max(p => p.Y) - list.Min(p => p.Y);
        double span = Math.Max(sx, sy);
        return span > 0 ? span : 1;
    }

    private static double GridSpacing(IEnumerable<double> coordinates)
    {
        var distinct = coordinates.Distinct().OrderBy(v => v).ToArray();
        double gap = double.PositiveInfinity;
        for (int i = 1; i < distinct.Length; i++) gap = Math.Min(gap, distinct[i] - distinct[i - 1]);
        return double.IsFinite(gap) ? gap : 1;
    }

    /// <summary>A colour scale for a colour bar: ScottPlot draws one for anything with a colormap and a range.</summary>
    private sealed class ColorScale(IColormap colormap, double min, double max) : IHasColorAxis
    {
        public IColormap Colormap { get; set; } = colormap;
        public ScottPlot.Range GetRange() => new(min, max);
    }

    /// <summary>
    /// A plane in state space: a point and two axes. Coordinates of a state are its least-squares position in the plane,
    /// so the same code serves orthonormal principal axes and the axes recovered from a flow field's grid.
    /// </summary>
    private sealed class Plane
    {
        private readonly double[] _center, _a1, _a2;
        private readonly double _g11, _g12, _g22, _det;

        private Plane(double[] center, double[] a1, double[] a2, string xLabel, string yLabel)
        {
            (_center, _a1, _a2, XLabel, YLabel) = (center, a1, a2, xLabel, yLabel);
            (_g11, _g12, _g22) = (VectorMath.Dot(a1, a1), VectorMath.Dot(a1, a2), VectorMath.Dot(a2, a2));
            _det = _g11 * _g22 - _g12 * _g12;
        }

        public string XLabel { get; }
        public string YLabel { get; }

        /// <summary>The plane of the given axes (made orthonormal) through the states' mean, or else of their principal components.</summary>
        public static Plane For(List<double[]> states, double[][]? axes)
        {
            if (axes is null) return Principal(states);
            int s = states[0].Length;
            var (a1, a2) = RnnLinearization.Core.FlowField.Orthonormal(axes, s);
            return new Plane(RnnLinearization.Core.FlowField.Mean(states, s), a1, a2, "axis 1", "axis 2 (orthogonalised)");
        }

        /// <summary>The states' first two principal components about their mean; for a single state (or states along one line), the first two units.</summary>
        public static Plane Principal(List<double[]> states)
        {
            int s = states[0].Length;
            if (states.Any(h => h.Length != s))
                throw new RnnException("PlotStateLengthMismatch", RnnErrorKind.InvalidData, "The piped states differ in length: they come from different models.");
            var center = RnnLinearization.Core.FlowField.Mean(states, s);
            if (states.Count >= 2 && s >= 2)
            {
                try
                {
                    var (a1, a2) = RnnLinearization.Core.FlowField.Principal(states, center, s);
                    return new Plane(center, a1, a2, "PC 1", "PC 2");
                }
                catch (RnnException) { }   // fewer than two dimensions spanned: fall back to the units
            }
            var e1 = new double[s];
            var e2 = new double[s];
            e1[0] = 1;
            if (s > 1) e2[1] = 1;
            return new Plane(new double[s], e1, e2, "unit 1", s > 1 ? "unit 2" : "");
        }

        /// <summary>The plane of a flow field's grid: State = c + X a1 + Y a2, recovered by least squares from the grid points.</summary>
        public static Plane OfGrid(List<FlowPoint> flow)
        {
            int s = flow[0].State.Length;
            if (flow.Any(f => f.State.Length != s))
                throw new RnnException("PlotStateLengthMismatch", RnnErrorKind.InvalidData, "The piped flow points differ in length: they come from different models.");
            // Normal equations of the regression of every coordinate on (1, X, Y): a 3 x 3 system shared by all coordinates.
            var m = new double[3, 3];
            var b = new double[3, s];
            foreach (var f in flow)
            {
                double[] r = { 1, f.X, f.Y };
                for (int i = 0; i < 3; i++)
                {
                    for (int j = 0; j < 3; j++) m[i, j] += r[i] * r[j];
                    for (int k = 0; k < s; k++) b[i, k] += r[i] * f.State[k];
                }
            }
            var solution = Solve3(m, b, s) ?? throw new RnnException("PlaneUndefined", RnnErrorKind.InvalidData,
                "The flow points do not span a plane (fewer than three grid points that are not on one line).");
            return new Plane(solution[0], solution[1], solution[2], "plane axis 1", "plane axis 2");
        }

        public (double X, double Y) Project(double[] state)
        {
            if (state.Length != _center.Length)
                throw new RnnException("PlotStateLengthMismatch", RnnErrorKind.InvalidData,
                    $"A state of length {state.Length} in a picture of states of length {_center.Length}: they come from different models.");
            double p1 = 0, p2 = 0;
            for (int i = 0; i < state.Length; i++)
            {
                double d = state[i] - _center[i];
                p1 += _a1[i] * d;
                p2 += _a2[i] * d;
            }
            return ((_g22 * p1 - _g12 * p2) / _det, (_g11 * p2 - _g12 * p1) / _det);
        }

        /// <summary>A direction's in-plane part, as plane coordinates (its length shows how much of it lies in the plane).</summary>
        public (double X, double Y) Direction(double[] v)
        {
            var zero = Project(_center);
            var shifted = Project(v.Select((e, i) => e + _center[i]).ToArray());
            return (shifted.X - zero.X, shifted.Y - zero.Y);
        }

        private static double[][]? Solve3(double[,] m, double[,] b, int s)
        {
            // Gaussian elimination with partial pivoting on [m | b].
            var a = (double[,])m.Clone();
            var rhs = (double[,])b.Clone();
            for (int col = 0; col < 3; col++)
            {
                int pivot = col;
                for (int r = col + 1; r < 3; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
                if (Math.Abs(a[pivot, col]) < 1e-12 * (Math.Abs(a[0, 0]) + 1)) return null;
                for (int j = 0; j < 3; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
                for (int k = 0; k < s; k++) (rhs[col, k], rhs[pivot, k]) = (rhs[pivot, k], rhs[col, k]);
                for (int r = 0; r < 3; r++)
                {
                    if (r == col) continue;
                    double f = a[r, col] / a[col, col];
                    for (int j = 0; j < 3; j++) a[r, j] -= f * a[col, j];
                    for (int k = 0; k < s; k++) rhs[r, k] -= f * rhs[col, k];
                }
            }
            var x = new double[3][];
            for (int i = 0; i < 3; i++)
            {
                x[i] = new double[s];
                for (int k = 0; k < s; k++) x[i][k] = rhs[i, k] / a[i, i];
            }
            return x;
        }
    }
}

using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>Where a run that left a fixed point along one of its unstable modes ended.</summary>
public enum EdgeOutcome
{
    /// <summary>Within the tolerance of one of the given stable points.</summary>
    Settled,
    /// <summary>At a fixed point (|F(h) - h| below 1e-10) that is none of the given stable points.</summary>
    Elsewhere,
    /// <summary>Neither, when the step limit was reached.</summary>
    NotSettled,
    /// <summary>The state became infinite or NaN.</summary>
    Diverged,
}

/// <summary>
/// One run off a fixed point: From (the source's position among the sources), Mode (its unstable modes counted in order
/// of magnitude, a complex pair once), the mode's Eigenvalue, Direction (+1 or -1 along a real mode's eigenvector; for a
/// complex pair, k of the points at angles 2 pi k / n on its circle), To (the position of the stable point reached, or
/// null), Steps, Distance (to the stable point reached, or to the nearest one), State (where it ended) and Path (states
/// along the way, at most 129, evenly spaced in steps, first and last included).
/// </summary>
public sealed record GraphEdge(int From, int Mode, Complex Eigenvalue, int Direction, int? To, EdgeOutcome Outcome, int Steps,
    double Distance, double[] State, double[][] Path);

/// <summary>A fixed point to leave: its state, and optionally its eigenvalues and unstable modes as Find-RnnFixedPoint gives them.</summary>
public sealed record GraphSource(double[] State, Complex[]? Eigenvalues = null, double[][]? UnstableModes = null);

/// <summary>
/// How the runs go: the size of the step off the source (Euclidean), the steps allowed, the distance at which a run
/// has reached a stable point, and how many points on a complex pair's circle are tried.
/// </summary>
public sealed record GraphOptions(double Perturbation = 1e-3, int MaxSteps = 5000, double Tolerance = 1e-3, int CircleDirections = 4);

/// <summary>
/// The fixed-point graph (Maheswaranathan et al. 2019): from every source (saddles, unstable points) the network is
/// run from h* + eps v for each unstable mode v, both ways, until it settles at a known stable point. All runs go
/// in one batch, so a step of all of them is one call of the network.
/// </summary>
public static class FixedPointGraph
{
    /// <summary>Points kept on a path before it is thinned to every other one.</summary>
    private const int PathPoints = 128;

    /// <summary>|F(h) - h| below which a run has stopped at some fixed point.</summary>
    private const double Stopped = 1e-10;

    public static GraphEdge[] Edges(RnnModel model, double[] input, IReadOnlyList<GraphSource> sources, IReadOnlyList<double[]> stable,
        GraphOptions options, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        Check.Input(model, input);
        for (int i = 0; i < sources.Count; i++) Check.Vector(sources[i].State, model.StateSize, $"Source {i}", "StateLengthMismatch");
        for (int i = 0; i < stable.Count; i++) Check.Vector(stable[i], model.StateSize, $"Stable point {i}", "StateLengthMismatch");
        if (!(options.Perturbation > 0) || double.IsInfinity(options.Perturbation) || !(options.Tolerance > 0) || double.IsInfinity(options.Tolerance))
            throw new RnnException("InvalidGraphOption", RnnErrorKind.InvalidArgument, "-Perturbation and -Tolerance must be finite and above 0.");
        if (options.MaxSteps < 1 || options.CircleDirections < 1)
            throw new RnnException("InvalidGraphOption", RnnErrorKind.InvalidArgument, "-MaxSteps and -CircleDirections must be at least 1.");
        if (sources.Count == 0) return Array.Empty<GraphEdge>();
        TorchRuntime.EnsureLoaded();
        using var threads = TorchRuntime.SequentialSteps(model.StateSize);
        var runs = Starts(model, input, sources, options);
        return Run(model, input, runs, stable, options, progress, cancel);
    }

    private sealed class RunState(int from, int mode, Complex eigenvalue, int direction, double[] state)
    {
        public int From { get; } = from;
        public int Mode { get; } = mode;
        public Complex Eigenvalue { get; } = eigenvalue;
        public int Direction { get; } = direction;
        public double[] State { get; set; } = state;
        public List<double[]> Path { get; } = new() { state };
        public int Stride { get; set; } = 1;
        public GraphEdge? Edge { get; set; }
    }

    /// <summary>
    /// The perturbed starts: for each source, each unstable mode, each direction. The modes are the source's
    /// <see cref="Spectrum.UnstableBasis"/> (as Find-RnnFixedPoint gives them), computed here where not given.
    /// </summary>
    private static List<RunState> Starts(RnnModel model, double[] input, IReadOnlyList<GraphSource> sources, GraphOptions options)
    {
        var missing = Enumerable.Range(0, sources.Count).Where(i => !Complete(sources[i])).ToArray();
        var eigenvalues = sources.Select(x => x.Eigenvalues).ToArray();
        var modes = sources.Select(x => x.UnstableModes).ToArray();
        if (missing.Length > 0)
        {
            var states = missing.Select(i => sources[i].State).ToArray();
            var inputs = missing.Select(_ => input).ToArray();
            var spectra = Spectrum.FromModel(model, inputs, states, EigenSort.Magnitude, eigenvectors: false);
            var jacobians = Linearization.Jacobians(model, inputs, states);
            for (int k = 0; k < missing.Length; k++)
            {
                int i = missing[k];
                eigenvalues[i] = spectra[k].Eigenvalues;
                modes[i] = Spectrum.UnstableBasis(jacobians[k].StateJacobian, spectra[k].Eigenvalues);
                // Inverse iteration gives no vector where the shift hits an eigenvalue exactly: then all eigenvectors.
                if (!Complete(sources[i] with { Eigenvalues = eigenvalues[i], UnstableModes = modes[i] }))
                    modes[i] = FromEigenvectors(Spectrum.FromModel(model, new[] { input }, new[] { sources[i].State }, EigenSort.Magnitude, eigenvectors: true)[0]);
            }
        }
        var runs = new List<RunState>();
        for (int s = 0; s < sources.Count; s++)
        {
            int mode = 0, vector = 0;
            foreach (var lambda in eigenvalues[s]!)
            {
                if (lambda.Magnitude <= 1 || lambda.Imaginary < 0) continue;   // a complex pair once, from its eigenvalue with positive angle
                var basis = modes[s]!;
                if (lambda.Imaginary == 0)
                {
                    foreach (int sign in new[] { 1, -1 }) runs.Add(new RunState(s, mode, lambda, sign, Offset(sources[s].State, basis[vector], sign, options.Perturbation)));
                    vector++;
                }
                else
                {
                    var (re, im) = (basis[vector], basis[vector + 1]);
                    for (int d = 0; d < options.CircleDirections; d++)
                    {
                        double angle = 2 * Math.PI * d / options.CircleDirections;
                        var w = re.Select((x, i) => Math.Cos(angle) * x + Math.Sin(angle) * im[i]).ToArray();
                        runs.Add(new RunState(s, mode, lambda, d, Offset(sources[s].State, w, 1, options.Perturbation)));
                    }
                    vector += 2;
                }
                mode++;
            }
        }
        return runs;
    }

    /// <summary>The unstable modes in <see cref="Spectrum.UnstableBasis"/>'s layout, from a full decomposition with the same eigenvalue order.</summary>
    private static double[][] FromEigenvectors(EigenResult e)
    {
        var basis = new List<double[]>();
        for (int k = 0; k < e.Eigenvalues.Length; k++)
        {
            var lambda = e.Eigenvalues[k];
            if (lambda.Magnitude <= 1 || lambda.Imaginary < 0) continue;
            basis.Add(e.Eigenvectors![k].Select(c => c.Real).ToArray());
            if (lambda.Imaginary > 0) basis.Add(e.Eigenvectors[k].Select(c => c.Imaginary).ToArray());
        }
        return basis.ToArray();
    }

    /// <summary>Whether a source comes with its eigenvalues and as many unstable-mode vectors as they call for.</summary>
    private static bool Complete(GraphSource source) =>
        source.Eigenvalues is { } e && source.UnstableModes is { } m && m.All(v => v?.Length == source.State.Length)
        && m.Length == e.Where(l => l.Magnitude > 1 && l.Imaginary >= 0).Sum(l => l.Imaginary == 0 ? 1 : 2);

    private static double[] Offset(double[] point, double[] direction, int sign, double size)
    {
        double norm = VectorMath.Norm(direction);
        return point.Select((x, i) => x + sign * size * direction[i] / norm).ToArray();
    }

    private static GraphEdge[] Run(RnnModel model, double[] input, List<RunState> runs, IReadOnlyList<double[]> stable, GraphOptions options,
        Action<int, int>? progress, CancellationToken cancel)
    {
        int s = model.StateSize;
        var active = runs.ToList();
        for (int step = 1; step <= options.MaxSteps && active.Count > 0; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var x = TensorData.FromRows(active.Select(r => r.State).ToList(), s);
            var u = TensorData.FromRows(new[] { input }, model.InputSize).expand(active.Count, model.InputSize);
            var next = model.Step(u, x);
            var moved = TensorData.Values((next - x).norm(1));
            var states = TensorData.ToRows(next);
            for (int r = 0; r < active.Count; r++)
            {
                var run = active[r];
                run.State = states[r];
                Record(run, step);
                int nearest = -1;
                double best = double.PositiveInfinity;
                for (int k = 0; k < stable.Count; k++)
                    if (VectorMath.Distance(run.State, stable[k]) is var d && d < best) (best, nearest) = (d, k);
                EdgeOutcome? outcome = !run.State.All(double.IsFinite) ? EdgeOutcome.Diverged
                    : best <= options.Tolerance ? EdgeOutcome.Settled
                    : moved[r] <= Stopped ? EdgeOutcome.Elsewhere
                    : step == options.MaxSteps ? EdgeOutcome.NotSettled : null;
                if (outcome is { } o) Finish(run, o, o == EdgeOutcome.Settled ? nearest : null, step, best);
            }
            active.RemoveAll(r => r.Edge is not null);
            progress?.Invoke(step, active.Count);
        }
        return runs.Select(r => r.Edge!).ToArray();
    }

    /// <summary>Keeps every Stride-th state; at PathPoints + 1 states every other one goes and the stride doubles.</summary>
    private static void Record(RunState run, int step)
    {
        if (step % run.Stride != 0) return;
        run.Path.Add(run.State);
        if (run.Path.Count <= PathPoints) return;
        var kept = run.Path.Where((_, i) => i % 2 == 0).ToList();
        run.Path.Clear();
        run.Path.AddRange(kept);
        run.Stride *= 2;
    }

    private static void Finish(RunState run, EdgeOutcome outcome, int? to, int steps, double distance)
    {
        if (!ReferenceEquals(run.Path[^1], run.State)) run.Path.Add(run.State);
        run.Edge = new GraphEdge(run.From, run.Mode, run.Eigenvalue, run.Direction, to, outcome, steps,
            double.IsFinite(distance) ? distance : double.NaN, run.State, run.Path.ToArray());
    }
}

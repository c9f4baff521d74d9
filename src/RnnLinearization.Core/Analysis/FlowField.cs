using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>A plane through state space: a centre and two orthonormal axes, and the grid's half-widths along them.</summary>
public sealed record FlowPlane(double[] Center, double[] Axis1, double[] Axis2, double ExtentX, double ExtentY);

/// <summary>
/// One grid point: its plane coordinates, the velocity v = F(h, u) - h (or the linearised one) projected on the axes,
/// Speed = |v| in the whole state space, State = the grid point h and Velocity = v, both full length.
/// </summary>
public sealed record FlowPoint(double X, double Y, double VX, double VY, double Speed, double[] State, double[] Velocity);

/// <summary>The flow of the network's update on a grid in a plane of state space, as the toolkit's FlowFieldFinder draws it.</summary>
public static class FlowField
{
    /// <summary>
    /// The plane: through <paramref name="center"/> (default: the states' mean, or the origin) along the given axes
    /// (made orthonormal) or the states' first two principal components; half-widths from <paramref name="extent"/>
    /// (one value for both axes, or two), or 1.2 times the states' largest coordinate along each axis.
    /// </summary>
    public static FlowPlane Plane(RnnModel model, IReadOnlyList<double[]> states, IReadOnlyList<double[]>? axes, double[]? center, double[]? extent)
    {
        int s = model.StateSize;
        for (int i = 0; i < states.Count; i++) Check.Vector(states[i], s, $"State {i}", "StateLengthMismatch");
        if (center is not null) Check.Vector(center, s, "The center", "StateLengthMismatch");
        if (extent is not null && (extent.Length is < 1 or > 2 || extent.Any(e => !(e > 0) || double.IsInfinity(e))))
            throw new RnnException("InvalidExtent", RnnErrorKind.InvalidArgument, "-Extent takes one or two positive half-widths (along the first and second axis).");
        var c = center ?? (states.Count > 0 ? Mean(states, s) : new double[s]);
        double[] a1, a2;
        if (axes is not null) (a1, a2) = Orthonormal(axes, s);
        else (a1, a2) = Principal(states, c, s);

        double ex, ey;
        if (extent is not null) (ex, ey) = (extent[0], extent[^1]);
        else
        {
            ex = 1.2 * states.Select(h => Math.Abs(VectorMath.Dot(Minus(h, c), a1))).DefaultIfEmpty(0).Max();
            ey = 1.2 * states.Select(h => Math.Abs(VectorMath.Dot(Minus(h, c), a2))).DefaultIfEmpty(0).Max();
            if (!(ex > 0)) ex = 1;
            if (!(ey > 0)) ey = 1;
        }
        return new FlowPlane(c, a1, a2, ex, ey);
    }

    /// <summary>
    /// The flow at gridSize x gridSize points of the plane (X and Y from -extent to +extent, Y slowest). With
    /// <paramref name="linearAround"/> the velocity is that of the linearised step about it:
    /// F(h0) + J(h0) (h - h0) - h.
    /// </summary>
    public static FlowPoint[] Compute(RnnModel model, double[] input, FlowPlane plane, int gridSize, double[]? linearAround = null,
        CancellationToken cancel = default)
    {
        int s = model.StateSize;
        Check.Input(model, input);
        if (gridSize is < 2 or > 1000)
            throw new RnnException("InvalidGridSize", RnnErrorKind.InvalidArgument, $"-GridSize takes 2 to 1,000 points per axis, not {gridSize}.");
        if (linearAround is not null) Check.Vector(linearAround, s, "AroundState", "StateLengthMismatch");
        TorchRuntime.EnsureLoaded();
        var coordinates = new (double X, double Y)[gridSize * gridSize];
        for (int j = 0; j < gridSize; j++)
            for (int i = 0; i < gridSize; i++)
                coordinates[j * gridSize + i] = (plane.ExtentX * (2.0 * i / (gridSize - 1) - 1), plane.ExtentY * (2.0 * j / (gridSize - 1) - 1));
        var result = new FlowPoint[coordinates.Length];
        int chunk = WorkBudget.Items(WorkBudget.GridChunkBytes, 8.0 * s, int.MaxValue);
        for (int first = 0; first < coordinates.Length; first += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, coordinates.Length - first);
            var points = new double[n][];
            for (int k = 0; k < n; k++)
            {
                var (x, y) = coordinates[first + k];
                var h = points[k] = new double[s];
                for (int i = 0; i < s; i++) h[i] = plane.Center[i] + x * plane.Axis1[i] + y * plane.Axis2[i];
            }
            using var scope = torch.NewDisposeScope();
            var states = TensorData.FromRows(points, s);
            Tensor next;
            if (linearAround is null)
                next = model.Step(TensorData.FromRows(new[] { input }, model.InputSize).expand(n, model.InputSize), states);
            else
            {
                var h0 = TensorData.FromRows(new[] { linearAround }, s);
                var (f0, tangent) = model.Tangent(TensorData.FromRows(new[] { input }, model.InputSize), h0,
                    torch.zeros(1, model.InputSize, dtype: ScalarType.Float64), states - h0);
                next = f0 + tangent[0];
            }
            var velocity = TensorData.ToRows(next - states);
            for (int k = 0; k < n; k++)
            {
                var (x, y) = coordinates[first + k];
                var v = velocity[k];
                result[first + k] = new FlowPoint(x, y, VectorMath.Dot(v, plane.Axis1), VectorMath.Dot(v, plane.Axis2), VectorMath.Norm(v), points[k], v);
            }
        }
        return result;
    }

    /// <summary>The first two principal components of the states about <paramref name="center"/>, each with its largest entry positive.</summary>
    internal static (double[], double[]) Principal(IReadOnlyList<double[]> states, double[] center, int s)
    {
        if (states.Count < 2)
            throw new RnnException("PlaneUndefined", RnnErrorKind.InvalidArgument,
                "A plane needs at least two states that differ (their first two principal components), or -Axes.");
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var x = TensorData.FromRows(states, s) - TensorData.FromRows(new[] { center }, s);
        var (values, vectors) = torch.linalg.eigh(x.t().mm(x));   // ascending
        var lambda = TensorData.Values(values).ToArray();
        if (!(lambda[^1] > 0) || !(lambda.Length > 1 && lambda[^2] > 1e-20 * lambda[^1]))
            throw new RnnException("PlaneUndefined", RnnErrorKind.InvalidData,
                "The states span fewer than two dimensions, so they define no plane; give -Axes.");
        var columns = TensorData.ToRows(vectors.t());
        return (Signed(columns[^1]), Signed(columns[^2]));
    }

    private static double[] Signed(double[] v)
    {
        int largest = 0;
        for (int i = 1; i < v.Length; i++) if (Math.Abs(v[i]) > Math.Abs(v[largest])) largest = i;
        return v[largest] < 0 ? v.Select(e => -e).ToArray() : v;
    }

    /// <summary>Two axes of -Axes made orthonormal (Gram-Schmidt): the first keeps its direction, the second loses its part along it.</summary>
    public static (double[] A1, double[] A2) Orthonormal(IReadOnlyList<double[]> axes, int s)
    {
        if (axes.Count != 2)
            throw new RnnException("InvalidAxes", RnnErrorKind.InvalidArgument, $"-Axes takes two vectors, not {axes.Count}.");
        Check.Vector(axes[0], s, "The first axis", "StateLengthMismatch");
        Check.Vector(axes[1], s, "The second axis", "StateLengthMismatch");
        var a1 = Normalised(axes[0]) ?? throw Degenerate("The first axis is zero.");
        if (Normalised(axes[1]) is null) throw Degenerate("The second axis is zero.");
        var rest = (double[])axes[1].Clone();
        double along = VectorMath.Dot(rest, a1);
        for (int i = 0; i < s; i++) rest[i] -= along * a1[i];
        var a2 = Normalised(rest, VectorMath.Norm(axes[1])) ?? throw Degenerate("The two axes are parallel.");
        return (a1, a2);
    }

    private static RnnException Degenerate(string why) => new("InvalidAxes", RnnErrorKind.InvalidArgument, $"{why} -Axes needs two independent directions.");

    internal static double[] Mean(IReadOnlyList<double[]> states, int s)
    {
        var m = new double[s];
        foreach (var h in states) for (int i = 0; i < s; i++) m[i] += h[i] / states.Count;
        return m;
    }

    private static double[]? Normalised(double[] v, double? scale = null)
    {
        double n = VectorMath.Norm(v);
        return n > 1e-12 * (scale ?? n) && n > 0 ? v.Select(e => e / n).ToArray() : null;
    }

    private static double[] Minus(double[] a, double[] b) => a.Select((e, i) => e - b[i]).ToArray();
}

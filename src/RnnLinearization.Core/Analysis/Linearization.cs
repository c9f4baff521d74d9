using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>The Jacobians of F at one state: row i of a matrix holds d next_i / d (state or input).</summary>
public sealed record JacobianResult(double[] NextState, double[][] StateJacobian, double[][] InputJacobian);

/// <summary>
/// The results of a batch, each made when it is read: a read writes that state's rows into fresh arrays.
/// A consumer that streams the results (a pipeline) keeps only one state's arrays alive, so they die young
/// and cost the garbage collector nothing; reading an item twice makes it twice.
/// </summary>
public sealed class JacobianBatch : IReadOnlyList<JacobianResult>
{
    private readonly Func<int, JacobianResult> _make;

    public JacobianBatch(int count, Func<int, JacobianResult> make)
    {
        Count = count;
        _make = make;
    }

    public int Count { get; }

    public JacobianResult this[int index] =>
        (uint)index < (uint)Count ? _make(index) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<JacobianResult> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _make(i);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// The first-order Taylor step at (x, h) for a batch of state perturbations, as the seed's forward:
/// Linear[r] = F(x, h) + J_h dH[r] + J_x dx. Exact[r] = F(x + dx, h + dH[r]) when asked for.
/// </summary>
public sealed record TaylorResult(double[] NextState, double[][] Linear, double[][]? Exact);

/// <summary>Batched local analysis of an <see cref="RnnModel"/>: one set of tensor operations per batch.</summary>
public static class Linearization
{
    /// <summary>Checks a batch of inputs and states against the model; every shape is checked before any tensor call.</summary>
    public static void CheckBatch(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states)
    {
        if (inputs.Count != states.Count)
            throw new RnnException("BatchLengthMismatch", RnnErrorKind.InvalidArgument,
                $"{inputs.Count} inputs were given for {states.Count} states; give one input per state.");
        for (int i = 0; i < states.Count; i++)
        {
            Check.Input(model, inputs[i]);
            Check.State(model, states[i]);
        }
    }

    /// <summary>The Jacobians at a batch of states, computed together; see <see cref="JacobianBatch"/> for how results are made.</summary>
    public static JacobianBatch Jacobians(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states,
        Precision precision = Precision.Double)
    {
        CheckBatch(model, inputs, states);
        if (states.Count == 0) return new JacobianBatch(0, _ => throw new InvalidOperationException());
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        return model.Jacobians(TensorData.FromRows(inputs, model.InputSize, precision), TensorData.FromRows(states, model.StateSize, precision));
    }

    /// <summary>F(x, h) for a batch.</summary>
    public static double[][] Step(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states)
    {
        CheckBatch(model, inputs, states);
        if (states.Count == 0) return Array.Empty<double[]>();
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        return TensorData.ToRows(model.Step(TensorData.FromRows(inputs, model.InputSize), TensorData.FromRows(states, model.StateSize)));
    }

    /// <summary>Runs the network over an input sequence from <paramref name="initialState"/> (zeros if null); returns the state after each step.</summary>
    public static double[][] Trajectory(RnnModel model, IReadOnlyList<double[]> inputs, double[]? initialState,
        Action<int>? progress = null, CancellationToken cancel = default)
    {
        var h0 = initialState ?? new double[model.StateSize];
        Check.Vector(h0, model.StateSize, "The initial state", "StateLengthMismatch");
        for (int t = 0; t < inputs.Count; t++)
            Check.Vector(inputs[t], model.InputSize, $"Input {t} of the sequence", "InputLengthMismatch");
        TorchRuntime.EnsureLoaded();
        var states = new double[inputs.Count][];
        using var scope = torch.NewDisposeScope();
        var h = TensorData.FromRows(new[] { h0 }, model.StateSize);
        for (int t = 0; t < inputs.Count; t++)
        {
            cancel.ThrowIfCancellationRequested();
            using var inner = torch.NewDisposeScope();
            var next = model.Step(TensorData.FromRows(new[] { inputs[t] }, model.InputSize), h);
            states[t] = TensorData.Flat(next);
            h.copy_(next);
            progress?.Invoke(t);
        }
        return states;
    }

    public static TaylorResult Taylor(RnnModel model, double[] input, double[] state, double[]? deltaInput,
        IReadOnlyList<double[]> deltaStates, bool exact, Precision precision = Precision.Double)
    {
        Check.Input(model, input);
        Check.State(model, state);
        var dx = deltaInput ?? new double[model.InputSize];
        Check.Vector(dx, model.InputSize, "DeltaInput", "DeltaInputLengthMismatch");
        if (deltaStates.Count == 0)
            throw new RnnException("DeltaStateEmpty", RnnErrorKind.InvalidArgument, "DeltaState has no rows; give at least one perturbation.");
        for (int r = 0; r < deltaStates.Count; r++)
            Check.Vector(deltaStates[r], model.StateSize, $"DeltaState row {r}", "DeltaStateLengthMismatch");

        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var x = TensorData.FromRows(new[] { input }, model.InputSize, precision);
        var h = TensorData.FromRows(new[] { state }, model.StateSize, precision);
        var dxt = TensorData.FromRows(new[] { dx }, model.InputSize, precision);
        var dh = TensorData.FromRows(deltaStates, model.StateSize, precision);
        var (next, jh, jx) = model.Linearize(x, h);
        // [R, S] = next + dH J_h^T + (J_x dx)^T: one matrix product for all perturbations.
        var linear = next + dh.mm(jh[0].t()) + dxt.mm(jx[0].t());
        double[][]? exactRows = null;
        if (exact)
        {
            int rows = deltaStates.Count;
            var exactNext = model.Step((x + dxt).expand(rows, model.InputSize), h.expand(rows, model.StateSize) + dh);
            exactRows = TensorData.ToRows(exactNext);
        }
        return new TaylorResult(TensorData.Flat(next), TensorData.ToRows(linear), exactRows);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>The Jacobians of F at one state: row i of a matrix holds d next_i / d (state or input).</summary>
public sealed record JacobianResult(double[] NextState, double[][] StateJacobian, double[][] InputJacobian);

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

    public static JacobianResult[] Jacobians(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states)
    {
        CheckBatch(model, inputs, states);
        if (states.Count == 0) return Array.Empty<JacobianResult>();
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (next, jh, jx) = model.Linearize(TensorData.FromRows(inputs, model.InputSize), TensorData.FromRows(states, model.StateSize));
        var nextRows = TensorData.ToRows(next);
        var jhs = TensorData.ToMatrices(jh);
        var jxs = TensorData.ToMatrices(jx);
        var result = new JacobianResult[states.Count];
        for (int b = 0; b < result.Length; b++)
            result[b] = new JacobianResult(nextRows[b], jhs[b], jxs[b]);
        return result;
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
        IReadOnlyList<double[]> deltaStates, bool exact)
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
        var x = TensorData.FromRows(new[] { input }, model.InputSize);
        var h = TensorData.FromRows(new[] { state }, model.StateSize);
        var dxt = TensorData.FromRows(new[] { dx }, model.InputSize);
        var dh = TensorData.FromRows(deltaStates, model.StateSize);
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

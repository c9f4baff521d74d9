using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>The Jacobians of F at one state: row i of a matrix holds d next_i / d (state or input).</summary>
public sealed record JacobianResult(double[] NextState, double[][] StateJacobian, double[][] InputJacobian);

/// <summary>Writes row <c>row</c> of state <c>index</c>'s state and input Jacobians into the given spans.</summary>
public delegate void JacobianRowWriter(int index, int row, Span<double> stateRow, Span<double> inputRow);

/// <summary>
/// The results of a batch, each made when it is read: a read writes that state's rows into fresh arrays.
/// A consumer that streams the results (a pipeline) keeps only one state's arrays alive, so they die young
/// and cost the garbage collector little; reading an item twice makes it twice. <see cref="CopyTo"/> writes a
/// state into the caller's buffers instead, for consumers that reuse them.
/// </summary>
public sealed class JacobianBatch : IReadOnlyList<JacobianResult>
{
    private readonly double[] _next;
    private readonly JacobianRowWriter _write;

    /// <summary><paramref name="next"/> holds the next states, row-major [count, stateSize].</summary>
    public JacobianBatch(int count, int stateSize, int inputSize, double[] next, JacobianRowWriter write)
    {
        Count = count;
        StateSize = stateSize;
        InputSize = inputSize;
        _next = next;
        _write = write;
    }

    public int Count { get; }
    public int StateSize { get; }
    public int InputSize { get; }

    public JacobianResult this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var jh = new double[StateSize][];
            var jx = new double[StateSize][];
            for (int i = 0; i < StateSize; i++)
                _write(index, i, jh[i] = GC.AllocateUninitializedArray<double>(StateSize), jx[i] = GC.AllocateUninitializedArray<double>(InputSize));
            return new JacobianResult(_next.AsSpan(index * StateSize, StateSize).ToArray(), jh, jx);
        }
    }

    /// <summary>Writes state <paramref name="index"/>: next state, state Jacobian and input Jacobian (both row-major) into the caller's buffers.</summary>
    public void CopyTo(int index, Span<double> nextState, Span<double> stateJacobian, Span<double> inputJacobian)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        int s = StateSize, n = InputSize;
        if (nextState.Length < s || stateJacobian.Length < s * s || inputJacobian.Length < s * n)
            throw new ArgumentException($"Buffers must hold {s}, {s * s} and {s * n} values.");
        _next.AsSpan(index * s, s).CopyTo(nextState);
        for (int i = 0; i < s; i++)
            _write(index, i, stateJacobian.Slice(i * s, s), inputJacobian.Slice(i * n, n));
    }

    public IEnumerator<JacobianResult> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
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
        if (states.Count == 0) return new JacobianBatch(0, model.StateSize, model.InputSize, Array.Empty<double>(), (_, _, _, _) => { });
        MemoryGuard.Require(MemoryGuard.Matrices(states.Count, model.StateSize), $"The Jacobians of {states.Count} state(s) of {model.StateSize} values");
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
            Check.Vector(inputs[t], model.InputSize, inputs.Count > 1 && inputs.All(x => x?.Length == 1) && model.InputSize > 1
                ? $"Input {t} of the sequence (PowerShell made each of the {inputs.Count} numbers given one step: give steps as ,@(...) rows or a [double[][]])"
                : $"Input {t} of the sequence", "InputLengthMismatch");
        TorchRuntime.EnsureLoaded();
        using var threads = TorchRuntime.SequentialSteps(model.StateSize);
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

    /// <summary>The Taylor step at one state; see <see cref="Taylor(RnnModel, IReadOnlyList{double[]}, IReadOnlyList{double[]}, double[], IReadOnlyList{double[]}, bool, Precision)"/>.</summary>
    public static TaylorResult Taylor(RnnModel model, double[] input, double[] state, double[]? deltaInput,
        IReadOnlyList<double[]> deltaStates, bool exact, Precision precision = Precision.Double) =>
        Taylor(model, new[] { input }, new[] { state }, deltaInput, deltaStates, exact, precision)[0];

    /// <summary>
    /// The Taylor step at a batch of states, the same perturbations (dx, rows of dH) at each: the tangent
    /// J_h dH + J_x dx comes from the model's Jacobian-vector product, without forming the Jacobians where the
    /// model can avoid it.
    /// </summary>
    public static TaylorResult[] Taylor(RnnModel model, IReadOnlyList<double[]> inputs, IReadOnlyList<double[]> states,
        double[]? deltaInput, IReadOnlyList<double[]> deltaStates, bool exact, Precision precision = Precision.Double)
    {
        CheckBatch(model, inputs, states);
        var dx = deltaInput ?? new double[model.InputSize];
        CheckPerturbations(model, dx, deltaStates);
        if (states.Count == 0) return Array.Empty<TaylorResult>();
        MemoryGuard.Require(MemoryGuard.Matrices(states.Count, model.StateSize) + 8.0 * 3 * states.Count * deltaStates.Count * model.StateSize,
            $"The Taylor steps of {states.Count} state(s) of {model.StateSize} values with {deltaStates.Count} perturbation(s)");
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        int batch = states.Count, rows = deltaStates.Count, s = model.StateSize;
        var x = TensorData.FromRows(inputs, model.InputSize, precision);
        var h = TensorData.FromRows(states, s, precision);
        var dxt = TensorData.FromRows(new[] { dx }, model.InputSize, precision);
        var dh = TensorData.FromRows(deltaStates, s, precision);
        var (next, tangent) = model.Tangent(x, h, dxt, dh);
        // Rows are read straight from the tensors while they live: a batch-sized array would land on the
        // large-object heap and cost a full collection every few batches.
        var linear = TensorData.Values(next.unsqueeze(1) + tangent);                 // [B, R, S]
        var exactAll = default(ReadOnlySpan<double>);
        if (exact)
        {
            // Every state with every perturbation, as one batch of B * R steps.
            var xs = (x + dxt).unsqueeze(1).expand(batch, rows, model.InputSize).reshape(batch * rows, model.InputSize);
            var hs = (h.unsqueeze(1) + dh.unsqueeze(0)).reshape(batch * rows, s);
            exactAll = TensorData.Values(model.Step(xs, hs));
        }
        var nextAll = TensorData.Values(next);
        var result = new TaylorResult[batch];
        for (int b = 0; b < batch; b++)
        {
            result[b] = new TaylorResult(nextAll.Slice(b * s, s).ToArray(),
                TensorData.Split(linear.Slice(b * rows * s, rows * s), rows, s),
                exact ? TensorData.Split(exactAll.Slice(b * rows * s, rows * s), rows, s) : null);
        }
        return result;
    }

    /// <summary>Checks the perturbations of a Taylor step: dx of InputSize values, at least one dH row of StateSize values.</summary>
    public static void CheckPerturbations(RnnModel model, double[] deltaInput, IReadOnlyList<double[]> deltaStates)
    {
        Check.Vector(deltaInput, model.InputSize, "DeltaInput", "DeltaInputLengthMismatch");
        if (deltaStates.Count == 0)
            throw new RnnException("DeltaStateEmpty", RnnErrorKind.InvalidArgument, "DeltaState has no rows; give at least one perturbation.");
        for (int r = 0; r < deltaStates.Count; r++)
            Check.Vector(deltaStates[r], model.StateSize, deltaStates.Count > 1 && deltaStates.All(x => x?.Length == 1) && model.StateSize > 1
                ? $"DeltaState row {r} (PowerShell made each of the {deltaStates.Count} numbers given one row: give one perturbation as ,@(...) or a [double[][]])"
                : $"DeltaState row {r}", "DeltaStateLengthMismatch");
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

public enum Architecture { Rnn, Gru, Lstm, LeakyRnn, TorchScript }

/// <summary>The unit nonlinearity f. nn.RNN takes Tanh or Relu; a LeakyRnn takes any.</summary>
public enum Nonlinearity { Tanh, Relu, Sigmoid, Softplus, Linear }

/// <summary>One named parameter as PyTorch stores it: a shape and row-major values (read from its file when first asked for).</summary>
public sealed class Parameter
{
    private readonly Lazy<double[]> _data;

    public Parameter(long[] shape, double[] data)
    {
        Shape = shape;
        _data = new Lazy<double[]>(data);
    }

    internal Parameter(long[] shape, string dtype, Func<double[]> read)
    {
        Shape = shape;
        DType = dtype;
        _data = new Lazy<double[]>(read, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public long[] Shape { get; }

    /// <summary>The type it was stored as (float32, float16, int64, ...); its values are doubles either way.</summary>
    public string DType { get; } = "float64";

    public double[] Data => _data.Value;

    public long Rows => Shape.Length > 0 ? Shape[0] : 1;
    public long Columns => Shape.Length > 1 ? Shape[1] : 1;
}

/// <summary>
/// A recurrent network seen as a map F(x, h) -> h_next. Subclasses give the batched update and its
/// closed-form Jacobians; everything else (analysis, I/O, cmdlets) works on this contract.
/// Tensors here are float64, batch first: x [B, InputSize], h [B, StateSize].
/// </summary>
public abstract class RnnModel
{
    protected RnnModel(Architecture architecture, int inputSize, int hiddenSize, int numLayers,
        Nonlinearity? nonlinearity, bool? hasBias, IReadOnlyDictionary<string, Parameter> parameters)
    {
        Architecture = architecture;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Nonlinearity = nonlinearity;
        HasBias = hasBias;
        Parameters = parameters;
    }

    public Architecture Architecture { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }

    /// <summary>Length of the state vector: all layers' states (h, or [h; c] for an LSTM) concatenated in layer order.</summary>
    public virtual int StateSize => HiddenSize * NumLayers;

    /// <summary>The unit nonlinearity; null for a TorchScript cell, whose equations are its own.</summary>
    public Nonlinearity? Nonlinearity { get; }

    /// <summary>What the state's values are, in order: "h_l0 [0, 64), c_l0 [64, 128)" for a one-layer LSTM.</summary>
    public string StateLayout => string.Join(", ", StateParts().Select(p => $"{p.Name} [{p.Start}, {p.Start + p.Length})"));

    /// <summary>Whether each layer's state holds a cell vector beside h (an LSTM's [h; c], 2H per layer).</summary>
    public virtual bool HasCellState => false;

    /// <summary>A state split into all layers' h and all layers' c, each in layer order; null for a model with no cell state.</summary>
    public virtual (double[] Hidden, double[] Cell)? SplitCellState(double[] state) => null;

    /// <summary>The named parts of the state vector, in order.</summary>
    protected virtual IEnumerable<(string Name, int Start, int Length)> StateParts()
    {
        yield return ("h", 0, StateSize);
    }
    /// <summary>Whether the network adds biases; null for a TorchScript cell, whose equations are its own.</summary>
    public bool? HasBias { get; }

    /// <summary>Named unit ranges (regions) of the state, when a region map was given.</summary>
    public IReadOnlyDictionary<string, UnitRange>? Regions { get; set; }

    private double? _dt;

    /// <summary>
    /// The time one step takes, in the model's own time unit (Import-RnnModel -Dt, or set here); null when unknown, and
    /// then times are reported in steps.
    /// </summary>
    public double? Dt
    {
        get => _dt;
        set => _dt = value is null || value > 0 && double.IsFinite(value.Value) ? value
            : throw new RnnException("InvalidDt", RnnErrorKind.InvalidArgument, $"Dt is the time of one step: finite and above 0, not {value}.");
    }

    /// <summary>The file the model came from, if any.</summary>
    public string? Path { get; internal set; }

    /// <summary>Parameters under PyTorch's state_dict names (without any prefix), as loaded or created.</summary>
    public IReadOnlyDictionary<string, Parameter> Parameters { get; }

    /// <summary>The linear readout saved with the network, if one was found (or chosen with -Readout).</summary>
    public Readout? Readout { get; internal set; }

    /// <summary>Outputs of the readout; 0 without one.</summary>
    public int OutputSize => Readout?.OutputSize ?? 0;

    /// <summary>True when the file does not record the nonlinearity and Tanh was assumed (the default view says so).</summary>
    public bool NonlinearityAssumed { get; private set; }

    internal void AssumeNonlinearity()
    {
        NonlinearityAssumed = true;
        Notes.Insert(0, $"Nonlinearity: {Nonlinearity} assumed (the file does not record it); give -Nonlinearity for another.");
    }

    /// <summary>What was assumed or found while loading (the nonlinearity, the readout): for the verbose stream.</summary>
    public IReadOnlyList<string> LoadNotes => Notes;
    internal List<string> Notes { get; } = new();

    /// <summary>What the file would do in Python that a user should know before opening it there: for the warning stream.</summary>
    public IReadOnlyList<string> LoadWarnings => Warnings;
    internal List<string> Warnings { get; } = new();

    /// <summary>Length of the vector a readout reads (see <see cref="ReadoutInput"/>).</summary>
    public virtual int ReadoutInputSize => StateSize;

    /// <summary>The vector a readout reads at a state: the whole state unless a model says otherwise.</summary>
    protected internal virtual double[] ReadoutInput(double[] state) => state;

    /// <summary>The readout at a state, or null when the model has none.</summary>
    public double[]? Output(double[] state)
    {
        if (Readout is null) return null;
        Check.State(this, state);
        return Readout.Apply(ReadoutInput(state));
    }

    /// <summary>The readout's Jacobian d output / d state, [OutputSize][StateSize], at a state; null when the model has none.</summary>
    public double[][]? OutputJacobian(double[] state)
    {
        if (Readout is null) return null;
        Check.State(this, state);
        var (offset, slopes) = ReadoutInputSlopes(state);
        int width = Readout.InputSize;
        var w = Readout.Weight.Data;
        var c = new double[Readout.OutputSize][];
        for (int o = 0; o < c.Length; o++)
        {
            c[o] = new double[StateSize];
            for (int i = 0; i < width; i++) c[o][offset + i] = w[o * width + i] * (slopes?[i] ?? 1);
        }
        return c;
    }

    /// <summary>
    /// How the readout's input depends on the state: its value i is a function of state value Offset + i alone, with
    /// slope Slopes[i] there (1 when Slopes is null). The whole state as it is unless a model says otherwise.
    /// </summary>
    protected internal virtual (int Offset, double[]? Slopes) ReadoutInputSlopes(double[] state) => (0, null);

    /// <summary>The batched update: next states [B, StateSize].</summary>
    public abstract Tensor Step(Tensor input, Tensor state);

    /// <summary>The batched update as autograd can follow it (gradients, Adam); <see cref="Step"/> unless a model must differ.</summary>
    public virtual Tensor DifferentiableStep(Tensor input, Tensor state) => Step(input, state);

    /// <summary>Next states [B, S], state Jacobians [B, S, S] (row i = d next_i / d state) and input Jacobians [B, S, I].</summary>
    public abstract (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state);

    /// <summary>
    /// Next states [B, S] and the tangents J_h dH[r] + J_x dx [B, R, S] for perturbation rows dH [R, S] and dx [1, I]
    /// shared by all states. This default forms the Jacobians; subclasses may compute the product without them.
    /// </summary>
    public virtual (Tensor Next, Tensor Tangent) Tangent(Tensor input, Tensor state, Tensor deltaInput, Tensor deltaState)
    {
        var (next, jh, jx) = Linearize(input, state);
        var tangent = torch.matmul(deltaState.unsqueeze(0), jh.transpose(1, 2)) + torch.matmul(jx, deltaInput.t()).transpose(1, 2);
        return (next, tangent);
    }

    /// <summary>
    /// The state Jacobians of a batch of steps as an operator (products J v, J^T v, and J at chosen rows). This default
    /// forms them; models whose Jacobian is a few scaled weight matrices give the products in S^2 per state instead.
    /// </summary>
    public virtual JacobianOperator StateJacobianOperator(Tensor input, Tensor state)
    {
        var (next, jh, _) = Linearize(input, state);
        // For some rows, their matrices, selected once for the rows asked for again and again (a GMRES solve asks
        // for the same rows each iteration): a product over the whole batch would cost every row's.
        (Tensor Rows, Tensor Matrices)? selected = null;
        Tensor Of(Tensor? rows)
        {
            if (rows is null) return jh;
            if (selected is { } s && ReferenceEquals(s.Rows, rows)) return s.Matrices;
            var m = jh.index_select(0, rows);
            selected = (rows, m);
            return m;
        }
        return new JacobianOperator(next,
            (v, rows) => Of(rows).bmm(v.unsqueeze(2)).squeeze(2),
            (v, rows) => v.unsqueeze(1).bmm(Of(rows)).squeeze(1),
            rows => jh.index_select(0, rows));
    }

    /// <summary>J at the given batch rows, from <see cref="Linearize"/> of those rows alone: for operators that never form J.</summary>
    protected Tensor StateJacobianRows(Tensor input, Tensor state, Tensor rows) =>
        Linearize(input.index_select(0, rows), state.index_select(0, rows)).StateJacobian;

    /// <summary>
    /// Next states and both Jacobians as the arrays handed out, made per state when read. Output-bound at large
    /// sizes, so subclasses with a cheaper closed form write straight into the result arrays; this default copies
    /// the batch out of <see cref="Linearize"/> once and splits a state into rows when it is read.
    /// </summary>
    public virtual JacobianBatch Jacobians(Tensor input, Tensor state)
    {
        var (next, jh, jx) = Linearize(input, state);
        double[] nextAll = TensorData.Flat(next), jhAll = TensorData.Flat(jh), jxAll = TensorData.Flat(jx);
        int s = StateSize, n = InputSize;
        return new JacobianBatch((int)input.shape[0], s, n, nextAll, (b, i, stateRow, inputRow) =>
        {
            jhAll.AsSpan((b * s + i) * s, s).CopyTo(stateRow);
            jxAll.AsSpan((b * s + i) * n, n).CopyTo(inputRow);
        });
    }

    public override string ToString() =>
        $"{Architecture}(input {InputSize}, hidden {HiddenSize}, layers {NumLayers}, {Nonlinearity}{(HasBias == false ? ", no bias" : "")})";
}

/// <summary>
/// The state Jacobian J of a batch of steps [B, S] as an operator: next states, products J v and J^T v, and J [R, S, S]
/// at chosen batch rows (a long tensor). Products take v [B, S], or v [R, S] for the batch rows given. Iterative
/// solvers need only the products.
/// </summary>
public sealed class JacobianOperator(Tensor next, Func<Tensor, Tensor?, Tensor> apply, Func<Tensor, Tensor?, Tensor> applyTransposed,
    Func<Tensor, Tensor> rows)
{
    public Tensor Next => next;
    public Tensor Apply(Tensor v, Tensor? batchRows = null) => apply(v, batchRows);
    public Tensor ApplyTransposed(Tensor v, Tensor? batchRows = null) => applyTransposed(v, batchRows);
    public Tensor Matrices(Tensor batchRows) => rows(batchRows);
}

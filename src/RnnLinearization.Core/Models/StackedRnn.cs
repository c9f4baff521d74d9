using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// A stack of PyTorch recurrent layers: layer l maps (u_l, h_l) to h'_l, with u_0 = x and u_l = h'_(l-1); the state
/// is all layers' hidden vectors concatenated. A cell gives one layer's update and its two closed-form Jacobians
/// as row terms (each Jacobian row a sum of scaled weight rows). One layer writes Jacobian rows and tangents straight
/// from the terms; a stack assembles each layer's blocks and chains them: rows of layer l are B_l (output rows of
/// layer l-1) plus A_l in its own block. A layer's state may be wider than what it passes up (an LSTM keeps [h; c]
/// and passes h).
/// </summary>
public abstract class StackedRnn : RnnModel
{
    private readonly Dictionary<(string, ScalarType), Tensor> _tensors = new();
    private readonly object _gate = new();

    protected StackedRnn(Architecture architecture, int inputSize, int hiddenSize, int numLayers, Nonlinearity nonlinearity,
        bool hasBias, IReadOnlyDictionary<string, Parameter> parameters)
        : base(architecture, inputSize, hiddenSize, numLayers, nonlinearity, hasBias, parameters) { }

    /// <summary>A parameter as a tensor of the computation's type, made once and kept for the model's life.</summary>
    protected Tensor CachedParameter(string key, ScalarType type)
    {
        lock (_gate)
        {
            if (_tensors.TryGetValue((key, type), out var t)) return t;
            var p = Parameters[key];
            using (torch.NewDisposeScope())
                t = torch.tensor(p.Data, p.Shape, ScalarType.Float64).to_type(type).DetachFromDisposeScope();
            return _tensors[(key, type)] = t;
        }
    }

    /// <summary>Values of one layer's state: H, or 2H for an LSTM's [h; c]. Its first H values are what the layer above reads.</summary>
    protected virtual int LayerWidth => HiddenSize;

    public override int StateSize => LayerWidth * NumLayers;

    /// <summary>The vectors a layer's state holds, each H long: h, and c for an LSTM.</summary>
    protected virtual string[] LayerVectors => new[] { "h" };

    protected override IEnumerable<(string Name, int Start, int Length)> StateParts()
    {
        for (int l = 0; l < NumLayers; l++)
            for (int v = 0; v < LayerVectors.Length; v++)
                yield return ($"{LayerVectors[v]}_l{l}", l * LayerWidth + v * HiddenSize, HiddenSize);
    }

    /// <summary>Layer <paramref name="layer"/>'s new state [B, W].</summary>
    protected abstract Tensor LayerStep(int layer, Tensor below, Tensor hidden);

    /// <summary>Layer <paramref name="layer"/>'s new state, d s'/d s [B, W, W] and d s'/d u [B, W, in], assembled from its row terms.</summary>
    private (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor hidden)
    {
        var (next, stateTerms, inputTerms) = LayerRowTerms(layer, below, hidden);
        return (next, Assemble(stateTerms, LayerWidth, next), Assemble(inputTerms, below.shape[1], next));
    }

    private Tensor Assemble(RowTerm[] terms, long columns, Tensor next)
    {
        Tensor WeightRows(RowTerm t) => Rows(t.Coefficient, CachedParameter(t.Weight!, next.dtype).narrow(0, t.WeightRow, t.Count).unsqueeze(0));
        // A term that fills the whole matrix is the matrix (one B x W x W allocation, not two: at large sizes that is the cost).
        var whole = Array.FindIndex(terms, t => t.Weight is not null && t.RowStart == 0 && t.Count == LayerWidth && t.ColumnStart == 0 && t.Columns == columns);
        var m = whole >= 0 ? WeightRows(terms[whole]) : torch.zeros(next.shape[0], LayerWidth, columns, next.dtype);
        for (int k = 0; k < terms.Length; k++)
        {
            if (k == whole) continue;
            var t = terms[k];
            var block = m.narrow(1, t.RowStart, t.Count).narrow(2, t.ColumnStart, t.Weight is null ? t.Count : t.Columns);   // a view into m
            block.add_(t.Weight is null ? torch.diag_embed(t.Coefficient) : WeightRows(t));
        }
        return m;
    }

    /// <summary>A readout reads the top layer's h.</summary>
    public override int ReadoutInputSize => HiddenSize;

    protected internal override double[] ReadoutInput(double[] state) => state.AsSpan((NumLayers - 1) * LayerWidth, HiddenSize).ToArray();

    protected internal override (int Offset, double[]? Slopes) ReadoutInputSlopes(double[] state) => ((NumLayers - 1) * LayerWidth, null);

    protected Tensor LayerState(Tensor state, int layer) => state.narrow(1, (long)layer * LayerWidth, LayerWidth);

    /// <summary>The part of a layer's state [B, W, ...] that the layer above reads: its first H rows.</summary>
    private Tensor Output(Tensor layerRows) => LayerWidth == HiddenSize ? layerRows : layerRows.narrow(1, 0, HiddenSize);

    /// <summary>
    /// One term of a layer's Jacobian rows: output row RowStart + k gets Coefficient[b, k] times row WeightRow + k of
    /// the parameter Weight (Columns wide) added from column ColumnStart on; with no Weight, Coefficient[b, k] on the
    /// diagonal column ColumnStart + k. The built-in cells' Jacobians are sums of such terms.
    /// </summary>
    protected sealed record RowTerm(int RowStart, int Count, Tensor Coefficient, string? Weight, int WeightRow, int Columns, int ColumnStart)
    {
        /// <summary>
        /// Rows rowStart + k (k below H, the coefficient's width) get coefficient[b, k] times row gateRow + k of the
        /// weight, all its columns.
        /// </summary>
        public static RowTerm Weighted(Tensor coefficient, string weight, int gateRow, int columns, int rowStart = 0) =>
            new(rowStart, (int)coefficient.shape[1], coefficient, weight, gateRow, columns, 0);

        /// <summary>Rows rowStart + k get coefficient[b, k] in column columnStart + k.</summary>
        public static RowTerm Diagonal(Tensor coefficient, int rowStart = 0, int columnStart = 0) =>
            new(rowStart, (int)coefficient.shape[1], coefficient, null, 0, 0, columnStart);
    }

    /// <summary>Writes Jacobian rows from row terms, with the coefficients copied out of their tensors once.</summary>
    private sealed class RowTermWriter
    {
        private readonly RowTerm[] _terms;
        private readonly double[][] _coefficients;
        private readonly double[]?[] _weights;

        public RowTermWriter(RowTerm[] terms, IReadOnlyDictionary<string, Parameter> parameters)
        {
            _terms = terms;
            _coefficients = terms.Select(t => TensorData.Flat(t.Coefficient)).ToArray();
            _weights = terms.Select(t => t.Weight is null ? null : parameters[t.Weight].Data).ToArray();
        }

        // Optimised from the first call, as VectorMath: this is the inner loop of every one-layer Jacobian.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void Write(int b, int i, Span<double> row)
        {
            bool written = false;
            for (int k = 0; k < _terms.Length; k++)
            {
                var t = _terms[k];
                int j = i - t.RowStart;
                if ((uint)j >= (uint)t.Count) continue;
                double c = _coefficients[k][b * t.Count + j];
                var w = _weights[k];
                if (w is null)
                {
                    if (!written) row.Clear();
                    row[t.ColumnStart + j] += c;
                }
                else if (!written && t.ColumnStart == 0 && t.Columns == row.Length)
                    VectorMath.Multiply(w.AsSpan((t.WeightRow + j) * t.Columns, t.Columns), c, row);   // the first full-width term writes
                else
                {
                    if (!written) row.Clear();
                    VectorMath.MultiplyAdd(w.AsSpan((t.WeightRow + j) * t.Columns, t.Columns), c, row.Slice(t.ColumnStart, t.Columns));
                }
                written = true;
            }
            if (!written) row.Clear();
        }
    }

    /// <summary>Layer <paramref name="layer"/>'s new state [B, W] and its closed-form Jacobians as row terms (state, input).</summary>
    protected abstract (Tensor Next, RowTerm[] State, RowTerm[] Input) LayerRowTerms(int layer, Tensor below, Tensor hidden);

    /// <summary>
    /// One layer with row terms: only the coefficients come from tensors; each Jacobian row is a few weight rows
    /// scaled and added straight into the array handed out, when the state's result is read (the work is the
    /// output's size, so nothing else may cost). Other stacks copy the block matrices out of <see cref="Linearize"/>.
    /// </summary>
    public override JacobianBatch Jacobians(Tensor input, Tensor state)
    {
        if (NumLayers != 1) return base.Jacobians(input, state);
        var (next, stateTerms, inputTerms) = LayerRowTerms(0, input, state);
        var writeState = new RowTermWriter(stateTerms, Parameters);
        var writeInput = new RowTermWriter(inputTerms, Parameters);
        return new JacobianBatch((int)input.shape[0], StateSize, InputSize, TensorData.Flat(next), (b, i, stateRow, inputRow) =>
        {
            writeState.Write(b, i, stateRow);
            writeInput.Write(b, i, inputRow);
        });
    }

    /// <summary>
    /// One layer: the tangent J_h dH + J_x dx from the row terms without forming a Jacobian: a term adds
    /// coefficient * (weight rows . perturbation), a diagonal term coefficient * perturbation.
    /// </summary>
    public override (Tensor Next, Tensor Tangent) Tangent(Tensor input, Tensor state, Tensor deltaInput, Tensor deltaState)
    {
        if (NumLayers != 1) return base.Tangent(input, state, deltaInput, deltaState);
        var (next, stateTerms, inputTerms) = LayerRowTerms(0, input, state);
        var tangent = torch.zeros(next.shape[0], deltaState.shape[0], LayerWidth, next.dtype);   // [B, R, W]
        foreach (var (terms, delta) in new[] { (stateTerms, deltaState), (inputTerms, deltaInput) })
            foreach (var t in terms)
            {
                var along = Along(t, delta);   // [R or 1, Count]
                tangent.narrow(2, t.RowStart, t.Count).add_(t.Coefficient.unsqueeze(1) * along.unsqueeze(0));
            }
        return (next, tangent);
    }

    /// <summary>
    /// J v and J^T v from every layer's row terms, without forming J (which for a stack costs a chain of S^3 products):
    /// layer l's part of J v is its state terms applied to v_l plus its input terms applied to the layer below's part of
    /// J v (what it reads); J^T v runs the chain back down. J itself only where asked (for an LU).
    /// </summary>
    public override JacobianOperator StateJacobianOperator(Tensor input, Tensor state)
    {
        var layers = new (RowTerm[] State, RowTerm[] Input)[NumLayers];
        var next = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
        {
            (next[l], layers[l].State, layers[l].Input) = LayerRowTerms(l, below, LayerState(state, l));
            below = Output(next[l]);
        }
        int w = LayerWidth;
        Tensor Apply(Tensor v, Tensor? rows)
        {
            var parts = new Tensor[NumLayers];
            Tensor? fromBelow = null;
            for (int l = 0; l < NumLayers; l++)
            {
                var part = Terms(layers[l].State, v.narrow(1, (long)l * w, w), rows, w);
                if (fromBelow is not null) part.add_(Terms(layers[l].Input, fromBelow, rows, w));
                fromBelow = Output(parts[l] = part);
            }
            return NumLayers == 1 ? parts[0] : torch.cat(parts, 1);
        }
        Tensor ApplyTransposed(Tensor v, Tensor? rows)
        {
            var parts = new Tensor[NumLayers];
            Tensor? fromAbove = null;   // d/d(layer l's output) of what the layer above received: [N, H]
            for (int l = NumLayers - 1; l >= 0; l--)
            {
                var u = v.narrow(1, (long)l * w, w);
                if (fromAbove is not null)
                {
                    u = u.clone();
                    u.narrow(1, 0, HiddenSize).add_(fromAbove);
                }
                parts[l] = TermsTransposed(layers[l].State, u, rows, w);
                if (l > 0) fromAbove = TermsTransposed(layers[l].Input, u, rows, HiddenSize);
            }
            return NumLayers == 1 ? parts[0] : torch.cat(parts, 1);
        }
        return new JacobianOperator(NumLayers == 1 ? next[0] : torch.cat(next, 1), Apply, ApplyTransposed, rows => StateJacobianRows(input, state, rows));
    }

    private static Tensor Coefficient(RowTerm t, Tensor? rows) => rows is null ? t.Coefficient : t.Coefficient.index_select(0, rows);

    /// <summary>Row terms applied to v [N, their columns]: sum over terms of coefficient * (weight rows . v), [N, width].</summary>
    private Tensor Terms(RowTerm[] terms, Tensor v, Tensor? rows, int width)
    {
        var result = torch.zeros(v.shape[0], width, v.dtype);
        foreach (var t in terms)
            result.narrow(1, t.RowStart, t.Count).add_(Coefficient(t, rows) * Along(t, v));
        return result;
    }

    /// <summary>The transposed products: for v [N, width] rows, the sums over terms into [N, columns].</summary>
    private Tensor TermsTransposed(RowTerm[] terms, Tensor v, Tensor? rows, int columns)
    {
        var result = torch.zeros(v.shape[0], columns, v.dtype);
        foreach (var t in terms)
        {
            var scaled = Coefficient(t, rows) * v.narrow(1, t.RowStart, t.Count);
            if (t.Weight is null) result.narrow(1, t.ColumnStart, t.Count).add_(scaled);
            else result.narrow(1, t.ColumnStart, t.Columns).add_(scaled.mm(CachedParameter(t.Weight, v.dtype).narrow(0, t.WeightRow, t.Count)));
        }
        return result;
    }

    /// <summary>A term's weight rows applied to each row of v [N, columns] (or, for a diagonal term, v's part): [N, Count].</summary>
    private Tensor Along(RowTerm t, Tensor v) => t.Weight is null ? v.narrow(1, t.ColumnStart, t.Count)
        : v.narrow(1, t.ColumnStart, t.Columns).mm(CachedParameter(t.Weight, v.dtype).narrow(0, t.WeightRow, t.Count).t());

    /// <summary>Scales row i of each [B, R, C] matrix by v[b, i]: diag(v) M, batched.</summary>
    protected static Tensor Rows(Tensor v, Tensor m) => v.unsqueeze(2) * m;

    public override Tensor Step(Tensor input, Tensor state)
    {
        var next = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
            below = Output(next[l] = LayerStep(l, below, LayerState(state, l)));
        return NumLayers == 1 ? next[0] : torch.cat(next, 1);
    }

    public override (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state)
    {
        long batch = input.shape[0];
        int w = LayerWidth;
        var next = new Tensor[NumLayers];
        var jh = new Tensor[NumLayers];
        var jx = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
        {
            var (n, a, b) = LayerLinearize(l, below, LayerState(state, l));
            next[l] = n;
            if (NumLayers == 1) return (n, a, b);
            var own = torch.zeros(batch, w, StateSize, input.dtype);
            own.narrow(2, (long)l * w, w).copy_(a);
            jh[l] = l == 0 ? own : own + torch.matmul(b, Output(jh[l - 1]));
            jx[l] = l == 0 ? b : torch.matmul(b, Output(jx[l - 1]));
            below = Output(n);
        }
        return (torch.cat(next, 1), torch.cat(jh, 1), torch.cat(jx, 1));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// PyTorch's nn.LSTM layer, gates in PyTorch's order (i, f, g, o): with a = W_ih u + b_ih + W_hh h + b_hh,
/// c' = s(a_f) * c + s(a_i) * tanh(a_g), h' = s(a_o) * tanh(c'). A layer's state is [h; c] (2H values);
/// the layer above reads h. Closed-form Jacobians of [h'; c'] with respect to [h; c] and u.
/// </summary>
public sealed class LstmRnn : StackedRnn
{
    public LstmRnn(int inputSize, int hiddenSize, int numLayers, bool hasBias, IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.Lstm, inputSize, hiddenSize, numLayers, Core.Nonlinearity.Tanh, hasBias, parameters) { }

    protected override int LayerWidth => 2 * HiddenSize;

    protected override string[] LayerVectors => new[] { "h", "c" };

    public override bool HasCellState => true;

    /// <summary>A state [h_l0; c_l0; h_l1; ...] split into all layers' h and all layers' c, each in layer order.</summary>
    public override (double[] Hidden, double[] Cell)? SplitCellState(double[] state)
    {
        Check.State(this, state);
        int h = HiddenSize;
        var hidden = new double[h * NumLayers];
        var cell = new double[h * NumLayers];
        for (int l = 0; l < NumLayers; l++)
        {
            Array.Copy(state, l * 2 * h, hidden, l * h, h);
            Array.Copy(state, l * 2 * h + h, cell, l * h, h);
        }
        return (hidden, cell);
    }

    private (Tensor I, Tensor F, Tensor G, Tensor O, Tensor C) Gates(int layer, Tensor below, Tensor state)
    {
        var type = below.dtype;
        var h = state.narrow(1, 0, HiddenSize);
        var a = below.mm(CachedParameter($"weight_ih_l{layer}", type).t()) + h.mm(CachedParameter($"weight_hh_l{layer}", type).t());
        if (HasBias == true) a = a + CachedParameter($"bias_ih_l{layer}", type) + CachedParameter($"bias_hh_l{layer}", type);
        var g = a.chunk(4, 1);
        return (g[0].sigmoid(), g[1].sigmoid(), g[2].tanh(), g[3].sigmoid(), state.narrow(1, HiddenSize, HiddenSize));
    }

    protected override Tensor LayerStep(int layer, Tensor below, Tensor state)
    {
        var (i, f, g, o, c) = Gates(layer, below, state);
        var c2 = f * c + i * g;
        return torch.cat(new[] { o * c2.tanh(), c2 }, 1);
    }

    /// <summary>
    /// Rows of c' are c f(1-f) W_f + g i(1-i) W_i + i(1-g^2) W_g (rows of the gate blocks) and f on the c diagonal;
    /// rows of h' are tanh(c') o(1-o) W_o plus o(1 - tanh^2 c') times the c' row.
    /// </summary>
    protected override (Tensor Next, RowTerm[] State, RowTerm[] Input) LayerRowTerms(int layer, Tensor below, Tensor state)
    {
        var (i, f, g, o, c) = Gates(layer, below, state);
        var c2 = f * c + i * g;
        var t = c2.tanh();
        var viaF = c * f * (1.0 - f);
        var viaI = g * i * (1.0 - i);
        var viaG = i * (1.0 - g * g);
        var toC = o * (1.0 - t * t);   // d h' / d c'
        int H = HiddenSize;
        // Coefficient and gate block of each term, rows of h' then rows of c'; the same serve W_hh and W_ih, made once.
        var hRows = new (Tensor Coefficient, int Gate)[] { (t * o * (1.0 - o), 3), (toC * viaF, 1), (toC * viaI, 0), (toC * viaG, 2) };
        var cRows = new (Tensor Coefficient, int Gate)[] { (viaF, 1), (viaI, 0), (viaG, 2) };
        RowTerm[] Terms(string w, int columns) =>
            hRows.Select(x => RowTerm.Weighted(x.Coefficient, w, gateRow: x.Gate * H, columns))
                .Concat(cRows.Select(x => RowTerm.Weighted(x.Coefficient, w, gateRow: x.Gate * H, columns, rowStart: H))).ToArray();
        // d h'/d c and d c'/d c: the c columns of the state, which start at H.
        var diagonal = new[] { RowTerm.Diagonal(toC * f, columnStart: H), RowTerm.Diagonal(f, rowStart: H, columnStart: H) };
        return (torch.cat(new[] { o * t, c2 }, 1), Terms($"weight_hh_l{layer}", H).Concat(diagonal).ToArray(),
            Terms($"weight_ih_l{layer}", layer == 0 ? InputSize : H));
    }
}

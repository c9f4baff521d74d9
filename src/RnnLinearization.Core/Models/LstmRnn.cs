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

    /// <summary>A state [h_l0; c_l0; h_l1; ...] split into all layers' h and all layers' c, each in layer order.</summary>
    public (double[] Hidden, double[] Cell) Split(double[] state)
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
        var a = below.mm(P($"weight_ih_l{layer}", type).t()) + h.mm(P($"weight_hh_l{layer}", type).t());
        if (HasBias) a = a + P($"bias_ih_l{layer}", type) + P($"bias_hh_l{layer}", type);
        var g = a.chunk(4, 1);
        return (g[0].sigmoid(), g[1].sigmoid(), g[2].tanh(), g[3].sigmoid(), state.narrow(1, HiddenSize, HiddenSize));
    }

    protected override Tensor LayerStep(int layer, Tensor below, Tensor state)
    {
        var (i, f, g, o, c) = Gates(layer, below, state);
        var c2 = f * c + i * g;
        return torch.cat(new[] { o * c2.tanh(), c2 }, 1);
    }

    protected override (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor state)
    {
        var (i, f, g, o, c) = Gates(layer, below, state);
        var c2 = f * c + i * g;
        var t = c2.tanh();
        int H = HiddenSize;
        var type = below.dtype;

        // d c'/d v = c s'(a_f) W_f + g s'(a_i) W_i + i tanh'(a_g) W_g, and d h'/d v = tanh(c') s'(a_o) W_o + o tanh'(c') d c'/d v,
        // for v = h (W = W_hh blocks) and v = u (W = W_ih blocks); c enters c' only through f.
        (Tensor DC, Tensor DH) Through(Tensor w)
        {
            Tensor Block(int gate) => w.narrow(1, (long)gate * H, H);
            var dc = Rows(c * f * (1.0 - f), Block(1)) + Rows(g * i * (1.0 - i), Block(0)) + Rows(i * (1.0 - g * g), Block(2));
            var dh = Rows(t * o * (1.0 - o), Block(3)) + Rows(o * (1.0 - t * t), dc);
            return (dc, dh);
        }
        var (dcH, dhH) = Through(P($"weight_hh_l{layer}", type).unsqueeze(0));
        var (dcU, dhU) = Through(P($"weight_ih_l{layer}", type).unsqueeze(0));
        var dcC = torch.diag_embed(f);
        var dhC = torch.diag_embed(o * (1.0 - t * t) * f);
        var dState = torch.cat(new[] { torch.cat(new[] { dhH, dhC }, 2), torch.cat(new[] { dcH, dcC }, 2) }, 1);
        var dBelow = torch.cat(new[] { dhU, dcU }, 1);
        return (torch.cat(new[] { o * t, c2 }, 1), dState, dBelow);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// PyTorch's nn.GRU layer, gates in PyTorch's order (r, z, n):
/// r = s(W_ir u + b_ir + W_hr h + b_hr), z = s(W_iz u + b_iz + W_hz h + b_hz),
/// n = tanh(W_in u + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
/// Closed-form Jacobians by the chain rule through the three gates.
/// </summary>
public sealed class GruRnn : StackedRnn
{
    public GruRnn(int inputSize, int hiddenSize, int numLayers, bool hasBias, IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.Gru, inputSize, hiddenSize, numLayers, Core.Nonlinearity.Tanh, hasBias, parameters) { }

    private (Tensor Gi, Tensor Gh) Gates(int layer, Tensor below, Tensor hidden)
    {
        var type = below.dtype;
        var gi = below.mm(P($"weight_ih_l{layer}", type).t());
        var gh = hidden.mm(P($"weight_hh_l{layer}", type).t());
        return HasBias ? (gi + P($"bias_ih_l{layer}", type), gh + P($"bias_hh_l{layer}", type)) : (gi, gh);
    }

    private (Tensor R, Tensor Z, Tensor N, Tensor GhN) Forward(int layer, Tensor below, Tensor hidden)
    {
        var (gi, gh) = Gates(layer, below, hidden);
        var i = gi.chunk(3, 1);
        var h = gh.chunk(3, 1);
        var r = (i[0] + h[0]).sigmoid();
        var z = (i[1] + h[1]).sigmoid();
        var n = (i[2] + r * h[2]).tanh();
        return (r, z, n, h[2]);
    }

    protected override Tensor LayerStep(int layer, Tensor below, Tensor hidden)
    {
        var (_, z, n, _) = Forward(layer, below, hidden);
        return (1.0 - z) * n + z * hidden;
    }

    protected override (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor hidden)
    {
        var (r, z, n, ghN) = Forward(layer, below, hidden);
        var next = (1.0 - z) * n + z * hidden;
        int H = HiddenSize;
        var type = below.dtype;
        var wh = P($"weight_hh_l{layer}", type).unsqueeze(0);   // [1, 3H, H]
        var wi = P($"weight_ih_l{layer}", type).unsqueeze(0);   // [1, 3H, in]
        Tensor Block(Tensor w, int gate) => w.narrow(1, (long)gate * H, H);
        var dr = r * (1.0 - r);
        var dz = z * (1.0 - z);
        var dn = 1.0 - n * n;
        var keep = 1.0 - z;
        var spread = hidden - n;

        // d n / d v = (1 - n^2) * (W_n(v) + gh_n * d r / d v), with W_n(h) = r * W_hn and W_n(u) = W_in.
        var drH = Rows(dr, Block(wh, 0));
        var dnH = Rows(dn, Rows(r, Block(wh, 2)) + Rows(ghN, drH));
        var dHidden = Rows(keep, dnH) + Rows(spread, Rows(dz, Block(wh, 1))) + torch.diag_embed(z);
        var drU = Rows(dr, Block(wi, 0));
        var dnU = Rows(dn, Block(wi, 2) + Rows(ghN, drU));
        var dBelow = Rows(keep, dnU) + Rows(spread, Rows(dz, Block(wi, 1)));
        return (next, dHidden, dBelow);
    }
}

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
        var gi = below.mm(CachedParameter($"weight_ih_l{layer}", type).t());
        var gh = hidden.mm(CachedParameter($"weight_hh_l{layer}", type).t());
        return HasBias == true ? (gi + CachedParameter($"bias_ih_l{layer}", type), gh + CachedParameter($"bias_hh_l{layer}", type)) : (gi, gh);
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

    /// <summary>
    /// Row i of d h'/d v (v = h or u) is (1 - z)(1 - n^2) times [r W_n + gh_n r(1 - r) W_r] plus (h - n) z(1 - z) W_z,
    /// rows i of the gate blocks (W_n = W_hn scaled by r for h, W_in for u), and z_i on the diagonal for h.
    /// </summary>
    protected override (Tensor Next, RowTerm[] State, RowTerm[] Input) LayerRowTerms(int layer, Tensor below, Tensor hidden)
    {
        var (r, z, n, ghN) = Forward(layer, below, hidden);
        int H = HiddenSize, inputs = layer == 0 ? InputSize : H;
        var keep = (1.0 - z) * (1.0 - n * n);
        var viaR = keep * ghN * r * (1.0 - r);
        var viaZ = (hidden - n) * z * (1.0 - z);
        string wh = $"weight_hh_l{layer}", wi = $"weight_ih_l{layer}";
        return ((1.0 - z) * n + z * hidden,
            new[]
            {
                RowTerm.Weighted(keep * r, wh, gateRow: 2 * H, columns: H), RowTerm.Weighted(viaR, wh, gateRow: 0, columns: H),
                RowTerm.Weighted(viaZ, wh, gateRow: H, columns: H), RowTerm.Diagonal(z),
            },
            new[]
            {
                RowTerm.Weighted(keep, wi, gateRow: 2 * H, columns: inputs), RowTerm.Weighted(viaR, wi, gateRow: 0, columns: inputs),
                RowTerm.Weighted(viaZ, wi, gateRow: H, columns: inputs),
            });
    }
}

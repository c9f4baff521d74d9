using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// PyTorch's nn.RNN layer: h' = f(W_ih u + b_ih + W_hh h + b_hh). Closed-form Jacobians: d h'/d h = diag(f'(a)) W_hh
/// and d h'/d u = diag(f'(a)) W_ih, with a the pre-activation. One layer also has paths that never form them.
/// </summary>
public sealed class ElmanRnn : StackedRnn
{
    public ElmanRnn(int inputSize, int hiddenSize, int numLayers, Nonlinearity nonlinearity, bool hasBias,
        IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.Rnn, inputSize, hiddenSize, numLayers, nonlinearity, hasBias, parameters) { }

    private Tensor PreActivation(int layer, Tensor below, Tensor hidden)
    {
        var type = below.dtype;
        var a = below.mm(CachedParameter($"weight_ih_l{layer}", type).t()) + hidden.mm(CachedParameter($"weight_hh_l{layer}", type).t());
        return HasBias == true ? a + CachedParameter($"bias_ih_l{layer}", type) + CachedParameter($"bias_hh_l{layer}", type) : a;
    }

    private Tensor Activate(Tensor a) => Nonlinearity == Core.Nonlinearity.Tanh ? a.tanh() : a.relu();

    // f'(a), given a and f(a). PyTorch's relu gradient at exactly 0 is 0; so is this.
    private Tensor Derivative(Tensor a, Tensor fa) =>
        Nonlinearity == Core.Nonlinearity.Tanh ? 1.0 - fa * fa : a.gt(0.0).to_type(a.dtype);

    protected override Tensor LayerStep(int layer, Tensor below, Tensor hidden) => Activate(PreActivation(layer, below, hidden));

    /// <summary>Row i of d h'/d h is f'(a_i) times row i of W_hh; of d h'/d u, of W_ih.</summary>
    protected override (Tensor Next, RowTerm[] State, RowTerm[] Input) LayerRowTerms(int layer, Tensor below, Tensor hidden)
    {
        var a = PreActivation(layer, below, hidden);
        var fa = Activate(a);
        var slope = Derivative(a, fa);
        int h = HiddenSize;
        return (fa, new[] { RowTerm.Weighted(slope, $"weight_hh_l{layer}", gateRow: 0, columns: h) },
            new[] { RowTerm.Weighted(slope, $"weight_ih_l{layer}", gateRow: 0, columns: layer == 0 ? InputSize : h) });
    }
}

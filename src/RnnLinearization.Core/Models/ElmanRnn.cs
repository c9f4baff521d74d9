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
        var a = below.mm(P($"weight_ih_l{layer}", type).t()) + hidden.mm(P($"weight_hh_l{layer}", type).t());
        return HasBias ? a + P($"bias_ih_l{layer}", type) + P($"bias_hh_l{layer}", type) : a;
    }

    private Tensor Activate(Tensor a) => Nonlinearity == Core.Nonlinearity.Tanh ? a.tanh() : a.relu();

    // f'(a), given a and f(a). PyTorch's relu gradient at exactly 0 is 0; so is this.
    private Tensor Derivative(Tensor a, Tensor fa) =>
        Nonlinearity == Core.Nonlinearity.Tanh ? 1.0 - fa * fa : a.gt(0.0).to_type(a.dtype);

    protected override Tensor LayerStep(int layer, Tensor below, Tensor hidden) => Activate(PreActivation(layer, below, hidden));

    protected override (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor hidden)
    {
        var a = PreActivation(layer, below, hidden);
        var next = Activate(a);
        var d = Derivative(a, next);
        return (next, Rows(d, P($"weight_hh_l{layer}", a.dtype).unsqueeze(0)), Rows(d, P($"weight_ih_l{layer}", a.dtype).unsqueeze(0)));
    }

    /// <summary>One layer: J_h dH + J_x dx = f'(a) * (W_hh dH + W_ih dx), with no Jacobian formed.</summary>
    public override (Tensor Next, Tensor Tangent) Tangent(Tensor input, Tensor state, Tensor deltaInput, Tensor deltaState)
    {
        if (NumLayers != 1) return base.Tangent(input, state, deltaInput, deltaState);
        var a = PreActivation(0, input, state);
        var fa = Activate(a);
        var direction = deltaState.mm(P("weight_hh_l0", a.dtype).t()) + deltaInput.mm(P("weight_ih_l0", a.dtype).t());   // [R, H]
        return (fa, Derivative(a, fa).unsqueeze(1) * direction.unsqueeze(0));
    }

    /// <summary>
    /// One layer: only f'(a) comes from tensors; each Jacobian row is a row of W scaled by f'(a_i), written
    /// once, straight into the array handed out, when the state's result is read (the work is the output's size,
    /// so nothing else may cost).
    /// </summary>
    public override JacobianBatch Jacobians(Tensor input, Tensor state)
    {
        if (NumLayers != 1) return base.Jacobians(input, state);
        var a = PreActivation(0, input, state);
        var fa = Activate(a);
        double[] next = TensorData.Flat(fa), slopes = TensorData.Flat(Derivative(a, fa));
        double[] whh = Parameters["weight_hh_l0"].Data, wih = Parameters["weight_ih_l0"].Data;
        int h = HiddenSize, n = InputSize;
        return new JacobianBatch((int)input.shape[0], h, n, next, (b, i, stateRow, inputRow) =>
        {
            double slope = slopes[b * h + i];
            RowScale.Multiply(whh.AsSpan(i * h, h), slope, stateRow);
            RowScale.Multiply(wih.AsSpan(i * n, n), slope, inputRow);
        });
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// PyTorch's nn.RNN: h'_l = f(W_ih,l u_l + b_ih,l + W_hh,l h_l + b_hh,l), with u_0 = x and u_l = h'_(l-1).
/// Closed-form Jacobians: for one layer J_h = diag(f'(a)) W_hh and J_x = diag(f'(a)) W_ih; stacked layers
/// chain through the layer below's new state.
/// </summary>
public sealed class ElmanRnn : RnnModel
{
    /// <summary>Per layer, in one tensor type: W_ih, W_hh and the summed bias (null without bias).</summary>
    private sealed record Weights(Tensor[] Wih, Tensor[] Whh, Tensor?[] Bias);

    private readonly Dictionary<ScalarType, Weights> _weights = new();
    private readonly object _gate = new();

    public ElmanRnn(int inputSize, int hiddenSize, int numLayers, Nonlinearity nonlinearity, bool hasBias,
        IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.Rnn, inputSize, hiddenSize, numLayers, nonlinearity, hasBias, parameters)
    {
        WeightsFor(ScalarType.Float64);
    }

    /// <summary>The weights in the type of the computation; a float32 copy is made on first use.</summary>
    private Weights WeightsFor(ScalarType type)
    {
        lock (_gate)
        {
            if (_weights.TryGetValue(type, out var w)) return w;
            // Weights live as long as the model: keep them out of any caller's dispose scope.
            Tensor Persistent(string key) =>
                torch.tensor(Parameters[key].Data, Parameters[key].Shape, ScalarType.Float64).to_type(type).DetachFromDisposeScope();
            var wih = new Tensor[NumLayers];
            var whh = new Tensor[NumLayers];
            var bias = new Tensor?[NumLayers];
            using (torch.NewDisposeScope())
            {
                for (int l = 0; l < NumLayers; l++)
                {
                    wih[l] = Persistent($"weight_ih_l{l}");
                    whh[l] = Persistent($"weight_hh_l{l}");
                    if (HasBias)
                        bias[l] = (Persistent($"bias_ih_l{l}") + Persistent($"bias_hh_l{l}")).DetachFromDisposeScope();
                }
            }
            return _weights[type] = new Weights(wih, whh, bias);
        }
    }

    private Tensor PreActivation(Weights w, int layer, Tensor below, Tensor hidden)
    {
        var a = below.mm(w.Wih[layer].t()) + hidden.mm(w.Whh[layer].t());
        return w.Bias[layer] is { } b ? a + b : a;
    }

    private Tensor Activate(Tensor a) => Nonlinearity == Nonlinearity.Tanh ? a.tanh() : a.relu();

    // f'(a), given a and f(a). PyTorch's relu gradient at exactly 0 is 0; so is this.
    private Tensor Derivative(Tensor a, Tensor fa) =>
        Nonlinearity == Nonlinearity.Tanh ? 1.0 - fa * fa : a.gt(0.0).to_type(a.dtype);

    private Tensor LayerState(Tensor state, int layer) => state.narrow(1, (long)layer * HiddenSize, HiddenSize);

    public override Tensor Step(Tensor input, Tensor state)
    {
        var w = WeightsFor(input.dtype);
        var next = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
            below = next[l] = Activate(PreActivation(w, l, below, LayerState(state, l)));
        return NumLayers == 1 ? next[0] : torch.cat(next, 1);
    }

    public override (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state)
    {
        var w = WeightsFor(input.dtype);
        long batch = input.shape[0];
        int h = HiddenSize;
        var next = new Tensor[NumLayers];
        var jh = new Tensor[NumLayers];
        var jx = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
        {
            var a = PreActivation(w, l, below, LayerState(state, l));
            next[l] = Activate(a);
            var d = Derivative(a, next[l]).unsqueeze(2);          // [B, H, 1]: scales rows
            if (NumLayers == 1)
            {
                jh[l] = d * w.Whh[l].unsqueeze(0);
                jx[l] = d * w.Wih[l].unsqueeze(0);
            }
            else
            {
                // Rows of layer l: own recurrent block, plus the path through the layer below's new state.
                var direct = torch.zeros(batch, h, StateSize, input.dtype);
                direct.narrow(2, (long)l * h, h).copy_(w.Whh[l].unsqueeze(0).expand(batch, h, h));
                jh[l] = d * (l == 0 ? direct : direct + w.Wih[l].matmul(jh[l - 1]));
                jx[l] = d * (l == 0 ? w.Wih[l].unsqueeze(0) : w.Wih[l].matmul(jx[l - 1]));
            }
            below = next[l];
        }
        if (NumLayers == 1)
            return (next[0], jh[0], jx[0]);
        return (torch.cat(next, 1), torch.cat(jh, 1), torch.cat(jx, 1));
    }

    /// <summary>One layer: J_h dH + J_x dx = f'(a) * (W_hh dH + W_ih dx), with no Jacobian formed.</summary>
    public override (Tensor Next, Tensor Tangent) Tangent(Tensor input, Tensor state, Tensor deltaInput, Tensor deltaState)
    {
        if (NumLayers != 1) return base.Tangent(input, state, deltaInput, deltaState);
        var w = WeightsFor(input.dtype);
        var a = PreActivation(w, 0, input, state);
        var fa = Activate(a);
        var direction = deltaState.mm(w.Whh[0].t()) + deltaInput.mm(w.Wih[0].t());     // [R, H]
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
        var w = WeightsFor(input.dtype);
        var a = PreActivation(w, 0, input, state);
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

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
    private readonly Tensor[] _wih, _whh;
    private readonly Tensor?[] _bias;

    public ElmanRnn(int inputSize, int hiddenSize, int numLayers, Nonlinearity nonlinearity, bool hasBias,
        IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.Rnn, inputSize, hiddenSize, numLayers, nonlinearity, hasBias, parameters)
    {
        _wih = new Tensor[numLayers];
        _whh = new Tensor[numLayers];
        _bias = new Tensor?[numLayers];
        for (int l = 0; l < numLayers; l++)
        {
            // Weights live as long as the model: keep them out of any caller's dispose scope.
            _wih[l] = Persistent(parameters[$"weight_ih_l{l}"]);
            _whh[l] = Persistent(parameters[$"weight_hh_l{l}"]);
            if (hasBias)
            {
                using var bih = Persistent(parameters[$"bias_ih_l{l}"]);
                using var bhh = Persistent(parameters[$"bias_hh_l{l}"]);
                _bias[l] = (bih + bhh).DetachFromDisposeScope();
            }
        }
    }

    private static Tensor Persistent(Parameter p) =>
        torch.tensor(p.Data, p.Shape, ScalarType.Float64).DetachFromDisposeScope();

    private Tensor PreActivation(int layer, Tensor below, Tensor hidden)
    {
        var a = below.mm(_wih[layer].t()) + hidden.mm(_whh[layer].t());
        return _bias[layer] is { } b ? a + b : a;
    }

    private Tensor Activate(Tensor a) => Nonlinearity == Nonlinearity.Tanh ? a.tanh() : a.relu();

    // f'(a), given a and f(a). PyTorch's relu gradient at exactly 0 is 0; so is this.
    private Tensor Derivative(Tensor a, Tensor fa) =>
        Nonlinearity == Nonlinearity.Tanh ? 1.0 - fa * fa : a.gt(0.0).to_type(ScalarType.Float64);

    private Tensor LayerState(Tensor state, int layer) => state.narrow(1, (long)layer * HiddenSize, HiddenSize);

    public override Tensor Step(Tensor input, Tensor state)
    {
        var next = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
            below = next[l] = Activate(PreActivation(l, below, LayerState(state, l)));
        return NumLayers == 1 ? next[0] : torch.cat(next, 1);
    }

    public override (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state)
    {
        long batch = input.shape[0];
        int h = HiddenSize;
        var next = new Tensor[NumLayers];
        var jh = new Tensor[NumLayers];
        var jx = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
        {
            var a = PreActivation(l, below, LayerState(state, l));
            next[l] = Activate(a);
            var d = Derivative(a, next[l]).unsqueeze(2);          // [B, H, 1]: scales rows
            if (NumLayers == 1)
            {
                jh[l] = d * _whh[l].unsqueeze(0);
                jx[l] = d * _wih[l].unsqueeze(0);
            }
            else
            {
                // Rows of layer l: own recurrent block, plus the path through the layer below's new state.
                var direct = torch.zeros(batch, h, StateSize, ScalarType.Float64);
                direct.narrow(2, (long)l * h, h).copy_(_whh[l].unsqueeze(0).expand(batch, h, h));
                jh[l] = d * (l == 0 ? direct : direct + _wih[l].matmul(jh[l - 1]));
                jx[l] = d * (l == 0 ? _wih[l].unsqueeze(0) : _wih[l].matmul(jx[l - 1]));
            }
            below = next[l];
        }
        if (NumLayers == 1)
            return (next[0], jh[0], jx[0]);
        return (torch.cat(next, 1), torch.cat(jh, 1), torch.cat(jx, 1));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// A stack of PyTorch recurrent layers: layer l maps (u_l, h_l) to h'_l, with u_0 = x and u_l = h'_(l-1); the state
/// is all layers' hidden vectors concatenated. A cell gives one layer's update and its two closed-form Jacobians;
/// the stack chains them: rows of layer l are B_l (rows of layer l-1) plus A_l in its own block.
/// </summary>
public abstract class StackedRnn : RnnModel
{
    private readonly Dictionary<(string, ScalarType), Tensor> _tensors = new();
    private readonly object _gate = new();

    protected StackedRnn(Architecture architecture, int inputSize, int hiddenSize, int numLayers, Nonlinearity nonlinearity,
        bool hasBias, IReadOnlyDictionary<string, Parameter> parameters)
        : base(architecture, inputSize, hiddenSize, numLayers, nonlinearity, hasBias, parameters) { }

    /// <summary>A parameter as a tensor of the computation's type, made once and kept for the model's life.</summary>
    protected Tensor P(string key, ScalarType type)
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

    /// <summary>Layer <paramref name="layer"/>'s new hidden vector [B, H].</summary>
    protected abstract Tensor LayerStep(int layer, Tensor below, Tensor hidden);

    /// <summary>Layer <paramref name="layer"/>'s new hidden vector, d h'/d h [B, H, H] and d h'/d u [B, H, in].</summary>
    protected abstract (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor hidden);

    protected Tensor LayerState(Tensor state, int layer) => state.narrow(1, (long)layer * HiddenSize, HiddenSize);

    /// <summary>Scales row i of each [B, R, C] matrix by v[b, i]: diag(v) M, batched.</summary>
    protected static Tensor Rows(Tensor v, Tensor m) => v.unsqueeze(2) * m;

    public override Tensor Step(Tensor input, Tensor state)
    {
        var next = new Tensor[NumLayers];
        var below = input;
        for (int l = 0; l < NumLayers; l++)
            below = next[l] = LayerStep(l, below, LayerState(state, l));
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
            var (n, a, b) = LayerLinearize(l, below, LayerState(state, l));
            next[l] = n;
            if (NumLayers == 1) return (n, a, b);
            var own = torch.zeros(batch, h, StateSize, input.dtype);
            own.narrow(2, (long)l * h, h).copy_(a);
            jh[l] = l == 0 ? own : own + torch.matmul(b, jh[l - 1]);
            jx[l] = l == 0 ? b : torch.matmul(b, jx[l - 1]);
            below = n;
        }
        return (torch.cat(next, 1), torch.cat(jh, 1), torch.cat(jx, 1));
    }
}

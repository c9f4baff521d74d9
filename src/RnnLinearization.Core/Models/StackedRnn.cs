using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// A stack of PyTorch recurrent layers: layer l maps (u_l, h_l) to h'_l, with u_0 = x and u_l = h'_(l-1); the state
/// is all layers' hidden vectors concatenated. A cell gives one layer's update and its two closed-form Jacobians;
/// the stack chains them: rows of layer l are B_l (output rows of layer l-1) plus A_l in its own block. A layer's
/// state may be wider than what it passes up (an LSTM keeps [h; c] and passes h).
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

    /// <summary>Layer <paramref name="layer"/>'s new state, d s'/d s [B, W, W] and d s'/d u [B, W, in].</summary>
    protected abstract (Tensor Next, Tensor DHidden, Tensor DBelow) LayerLinearize(int layer, Tensor below, Tensor hidden);

    protected Tensor LayerState(Tensor state, int layer) => state.narrow(1, (long)layer * LayerWidth, LayerWidth);

    /// <summary>The part of a layer's state [B, W, ...] that the layer above reads: its first H rows.</summary>
    private Tensor Output(Tensor layerRows) => LayerWidth == HiddenSize ? layerRows : layerRows.narrow(1, 0, HiddenSize);

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

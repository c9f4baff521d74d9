using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// The continuous-time rate network of the multi-region (mRNN) toolkits, Euler-discretised:
/// x' = x + alpha (-x + W_rec f(x) + W_in u + b), with alpha = dt / tau. Parameters (state_dict keys): weight_hh,
/// weight_ih, optional bias, optional mask_hh (same shape as weight_hh) and per-unit sign (Dale's law, applied to the
/// presynaptic unit, i.e. the columns): W_rec = mask * |W_hh| * sign when sign is given, mask * W_hh otherwise.
/// Jacobians: J_x = (1 - alpha) I + alpha W_rec diag(f'(x)), J_u = alpha W_in.
/// </summary>
public sealed class LeakyRnn : RnnModel
{
    private readonly Tensor _wrec, _win;
    private readonly Tensor? _bias;

    public LeakyRnn(int inputSize, int hiddenSize, Nonlinearity nonlinearity, double alpha, IReadOnlyDictionary<string, Parameter> parameters)
        : base(Architecture.LeakyRnn, inputSize, hiddenSize, 1, nonlinearity, parameters.ContainsKey("bias"), parameters)
    {
        Alpha = alpha;
        using var scope = torch.NewDisposeScope();
        Tensor T(string key) => torch.tensor(parameters[key].Data, parameters[key].Shape, ScalarType.Float64);
        var w = T("weight_hh");
        if (parameters.ContainsKey("sign")) w = w.abs() * T("sign").unsqueeze(0);
        if (parameters.ContainsKey("mask_hh")) w = w * T("mask_hh");
        _wrec = w.DetachFromDisposeScope();
        _win = T("weight_ih").DetachFromDisposeScope();
        _bias = HasBias == true ? T("bias").DetachFromDisposeScope() : null;
    }

    protected override IEnumerable<(string Name, int Start, int Length)> StateParts()
    {
        // "h", as every state in the module (State, F(h, u)); in mRNN's own notation above it is x, but x0, x1, ...
        // name inputs in state files.
        yield return ("h", 0, StateSize);
    }

    /// <summary>dt / tau: the fraction of the way to the target rate taken in one step.</summary>
    public double Alpha { get; }

    private (Tensor Wrec, Tensor Win, Tensor? Bias) Weights(ScalarType type) =>
        (_wrec.to_type(type), _win.to_type(type), _bias?.to_type(type));

    private Tensor F(Tensor x) => Nonlinearity switch
    {
        Core.Nonlinearity.Tanh => x.tanh(),
        Core.Nonlinearity.Relu => x.relu(),
        Core.Nonlinearity.Sigmoid => x.sigmoid(),
        Core.Nonlinearity.Softplus => torch.nn.functional.softplus(x),
        _ => x,
    };

    // f'(x). relu'(0) = 0 as in PyTorch; softplus' is the sigmoid.
    private Tensor Slope(Tensor x) => Nonlinearity switch
    {
        Core.Nonlinearity.Tanh => 1.0 - x.tanh().square(),
        Core.Nonlinearity.Relu => x.gt(0.0).to_type(x.dtype),
        Core.Nonlinearity.Sigmoid => x.sigmoid() * (1.0 - x.sigmoid()),
        Core.Nonlinearity.Softplus => x.sigmoid(),
        _ => torch.ones_like(x),
    };

    /// <summary>A readout reads the rates f(x), not x.</summary>
    protected internal override double[] ReadoutInput(double[] state) => state.Select(Rate).ToArray();

    protected internal override (int Offset, double[]? Slopes) ReadoutInputSlopes(double[] state)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        return (0, TensorData.Flat(Slope(TensorData.FromRows(new[] { state }, StateSize))));
    }

    private double Rate(double x) => Nonlinearity switch
    {
        Core.Nonlinearity.Tanh => Math.Tanh(x),
        Core.Nonlinearity.Relu => Math.Max(x, 0),
        Core.Nonlinearity.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Core.Nonlinearity.Softplus => x > 20 ? x : double.LogP1(Math.Exp(x)),   // PyTorch's threshold
        _ => x,
    };

    public override Tensor Step(Tensor input, Tensor state)
    {
        var (wrec, win, bias) = Weights(input.dtype);
        var drive = F(state).mm(wrec.t()) + input.mm(win.t());
        if (bias is not null) drive = drive + bias;
        return state + Alpha * (drive - state);
    }

    public override (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state)
    {
        var (wrec, win, _) = Weights(input.dtype);
        long batch = state.shape[0];
        var identity = torch.eye(HiddenSize, dtype: input.dtype).unsqueeze(0);
        var jh = (1.0 - Alpha) * identity + Alpha * wrec.unsqueeze(0) * Slope(state).unsqueeze(1);   // columns scaled by f'(x_j)
        var jx = (Alpha * win).unsqueeze(0).expand(batch, HiddenSize, InputSize);
        return (Step(input, state), jh, jx);
    }

    /// <summary>J = (1 - alpha) I + alpha W diag(f'(x)): products with W alone.</summary>
    public override JacobianOperator StateJacobianOperator(Tensor input, Tensor state)
    {
        var (wrec, _, _) = Weights(input.dtype);
        var slope = Slope(state);
        Tensor Slopes(Tensor? rows) => rows is null ? slope : slope.index_select(0, rows);
        return new JacobianOperator(Step(input, state),
            (v, rows) => (1.0 - Alpha) * v + Alpha * (Slopes(rows) * v).mm(wrec.t()),
            (v, rows) => (1.0 - Alpha) * v + Alpha * Slopes(rows) * v.mm(wrec),
            rows => StateJacobianRows(input, state, rows));
    }
}

using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// A cell exported as TorchScript (torch.jit.script(cell).save(path)) whose forward(input [B, I], h [B, S]) returns
/// the next state [B, S], or a tuple whose last element is. Any cell a user can script works; its Jacobians come from
/// <see cref="Autograd"/>. Batch rows must not interact (no batch norm across states). TorchScript does not record
/// the sizes, so they are given, and checked with one call when the model is made.
/// </summary>
public sealed class ScriptedRnn : RnnModel
{
    private readonly byte[] _archive;
    private readonly Dictionary<ScalarType, jit.ScriptModule> _modules = new();
    private readonly object _gate = new();

    public ScriptedRnn(byte[] archive, int inputSize, int stateSize)
        : base(Architecture.TorchScript, inputSize, stateSize, 1, null, null, new Dictionary<string, Parameter>())
    {
        _archive = archive;
        if (inputSize < 1 || stateSize < 1)
            throw new RnnException("InvalidModelSize", RnnErrorKind.InvalidArgument,
                $"A TorchScript cell needs an input size and a state size of at least 1, not {inputSize} and {stateSize}.");
        try { Module(ScalarType.Float64); }
        catch (Exception ex) when (ex is not RnnException)
        {
            throw new RnnException("UnreadableModelFile", RnnErrorKind.InvalidData,
                $"The TorchScript archive cannot be loaded by libtorch: {LastLine(ex.Message)}", ex);
        }
        using var scope = torch.NewDisposeScope();
        foreach (var (name, parameter) in Module(ScalarType.Float64).named_parameters())
        {
            long bad = (~torch.isfinite(parameter)).sum().item<long>();
            if (bad > 0)
                throw new RnnException("NonFiniteWeight", RnnErrorKind.InvalidData,
                    $"'{name}' holds {bad} NaN or infinite value(s) of {parameter.numel()}: training diverged or the file is damaged.");
        }
        try
        {
            // One probe call: a wrong size or a forward that does not fit the contract fails here, not mid-analysis.
            Step(torch.zeros(1, inputSize, ScalarType.Float64), torch.zeros(1, stateSize, ScalarType.Float64));
        }
        catch (Exception ex) when (ex is not RnnException)
        {
            throw new RnnException("ScriptForwardFailed", RnnErrorKind.InvalidData,
                $"The TorchScript module's forward(input [1, {inputSize}], h [1, {stateSize}]) failed: {LastLine(ex.Message)} " +
                "Check -InputSize and -HiddenSize (the state size) against the cell. A whole model whose forward takes only the input " +
                "cannot be analysed: script its recurrent cell, whose forward(input, h) returns the next state, or save the state_dict " +
                "(torch.save(model.state_dict(), path)).", ex);
        }
    }

    private jit.ScriptModule Module(ScalarType type)
    {
        lock (_gate)
        {
            if (_modules.TryGetValue(type, out var m)) return m;
            m = jit.load(_archive, DeviceType.CPU);
            m.eval();
            return _modules[type] = m.to(type);
        }
    }

    private Tensor Call(Tensor input, Tensor state)
    {
        var result = Module(input.dtype).call(input, state);
        var next = result switch
        {
            Tensor t => t,
            ITuple { Length: > 0 } tuple => tuple[tuple.Length - 1] as Tensor,
            object[] { Length: > 0 } items => items[^1] as Tensor,
            _ => null,
        } ?? throw new RnnException("ScriptOutputNotTensor", RnnErrorKind.InvalidData,
            $"The TorchScript module's forward returned {result?.GetType().Name ?? "nothing"}; it must return the next state, or a tuple whose last element is.");
        if (next.dim() != 2 || next.shape[0] != input.shape[0] || next.shape[1] != StateSize)
            throw new RnnException("ScriptOutputShape", RnnErrorKind.InvalidData,
                $"The TorchScript module's forward returned a tensor of shape [{string.Join(", ", next.shape)}] for {input.shape[0]} state(s); " +
                $"the next state must have shape [{input.shape[0]}, {StateSize}].");
        return next.to_type(input.dtype);
    }

    public override Tensor Step(Tensor input, Tensor state)
    {
        using var noGrad = torch.no_grad();
        return Call(input, state);
    }

    public override Tensor DifferentiableStep(Tensor input, Tensor state) => Call(input, state);

    public override (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state) =>
        Autograd.Linearize(Call, input, state);

    /// <summary>
    /// The error itself out of libtorch's message: native stack frames ("Exception raised from ...", "frame #0 ...")
    /// are cut, and of what is left (a TorchScript traceback ends with the error) the last line is kept.
    /// </summary>
    private static string LastLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        int native = lines.FindIndex(l => l.StartsWith("Exception raised from", StringComparison.Ordinal) || l.StartsWith("frame #", StringComparison.Ordinal));
        if (native >= 0) lines = lines.Take(native).ToList();
        return lines.Count == 0 ? message.Split('\n')[0] : lines[^1];
    }

    public override string ToString() => $"TorchScript(input {InputSize}, state {StateSize})";
}

using static TorchSharp.torch;

namespace RnnLinearization.Core;

public enum Architecture { Rnn, Gru, Lstm, LeakyRnn, TorchScript }

public enum Nonlinearity { Tanh, Relu }

/// <summary>One named parameter as PyTorch stores it: a shape and row-major values.</summary>
public sealed record Parameter(long[] Shape, double[] Data)
{
    public long Rows => Shape.Length > 0 ? Shape[0] : 1;
    public long Columns => Shape.Length > 1 ? Shape[1] : 1;
}

/// <summary>
/// A recurrent network seen as a map F(x, h) -> h_next. Subclasses give the batched update and its
/// closed-form Jacobians; everything else (analysis, I/O, cmdlets) works on this contract.
/// Tensors here are float64, batch first: x [B, InputSize], h [B, StateSize].
/// </summary>
public abstract class RnnModel
{
    protected RnnModel(Architecture architecture, int inputSize, int hiddenSize, int numLayers,
        Nonlinearity nonlinearity, bool hasBias, IReadOnlyDictionary<string, Parameter> parameters)
    {
        Architecture = architecture;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Nonlinearity = nonlinearity;
        HasBias = hasBias;
        Parameters = parameters;
    }

    public Architecture Architecture { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }

    /// <summary>Length of the state vector: all layers' hidden vectors concatenated in layer order.</summary>
    public virtual int StateSize => HiddenSize * NumLayers;

    public Nonlinearity Nonlinearity { get; }
    public bool HasBias { get; }

    /// <summary>The file the model came from, if any.</summary>
    public string? Path { get; internal set; }

    /// <summary>Parameters under PyTorch's state_dict names (without any prefix), as loaded or created.</summary>
    public IReadOnlyDictionary<string, Parameter> Parameters { get; }

    /// <summary>The batched update: next states [B, StateSize].</summary>
    public abstract Tensor Step(Tensor input, Tensor state);

    /// <summary>Next states [B, S], state Jacobians [B, S, S] (row i = d next_i / d state) and input Jacobians [B, S, I].</summary>
    public abstract (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Tensor input, Tensor state);

    public override string ToString() =>
        $"{Architecture}(input {InputSize}, hidden {HiddenSize}, layers {NumLayers}, {Nonlinearity}{(HasBias ? "" : ", no bias")})";
}

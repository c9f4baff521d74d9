namespace RnnLinearization.Core;

/// <summary>Argument checks done in C# before any tensor call: some libtorch shape errors abort the process.</summary>
public static class Check
{
    /// <summary>The vector exists, has <paramref name="length"/> elements and only finite values.</summary>
    public static void Vector(double[]? values, int length, string what, string lengthErrorId)
    {
        if (values is null)
            throw new RnnException(lengthErrorId, RnnErrorKind.InvalidArgument, $"{what} is missing; it must have {length} values.");
        if (values.Length != length)
            throw new RnnException(lengthErrorId, RnnErrorKind.InvalidArgument,
                $"{what} has {values.Length} values; the model needs {length}.");
        Finite(values, what);
    }

    public static void Finite(double[] values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new RnnException("NonFiniteValue", RnnErrorKind.InvalidData,
                    $"{what} holds {values[i]} at position {i}; only finite numbers can be analysed.");
        }
    }

    public static void State(RnnModel model, double[]? state, string what = "The state")
    {
        if (model.HasCellState && state is not null && state.Length == model.HiddenSize * model.NumLayers)
            throw new RnnException("StateLengthMismatch", RnnErrorKind.InvalidArgument,
                $"{what} has {state.Length} values, an LSTM's h alone; the state of an LSTM is [h; c] per layer ({model.StateSize} values: " +
                $"{model.StateLayout}). Append the cell vector c.");
        Vector(state, model.StateSize, what, "StateLengthMismatch");
    }

    public static void Input(RnnModel model, double[]? input) =>
        Vector(input, model.InputSize, "The input", "InputLengthMismatch");
}

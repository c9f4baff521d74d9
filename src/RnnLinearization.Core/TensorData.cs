using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>Arithmetic precision of an analysis: inputs and outputs stay double, the tensor work runs in this type.</summary>
public enum Precision { Double, Single }

/// <summary>Moves numbers between .NET arrays and tensors. Callers own the dispose scope.</summary>
internal static class TensorData
{
    public static ScalarType Type(Precision precision) => precision == Precision.Single ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>Rows (already checked to have <paramref name="columns"/> values each) as a [rows, columns] tensor.</summary>
    public static Tensor FromRows(IReadOnlyList<double[]> rows, int columns, Precision precision = Precision.Double)
    {
        var flat = new double[rows.Count * columns];
        for (int r = 0; r < rows.Count; r++)
            Array.Copy(rows[r], 0, flat, r * columns, columns);
        var t = torch.tensor(flat, new long[] { rows.Count, columns }, ScalarType.Float64);
        return precision == Precision.Double ? t : t.to_type(ScalarType.Float32);
    }

    /// <summary>
    /// Values as a tensor of libtorch's own (aligned) memory: a tensor made straight from an array sits where the array
    /// does, and MKL's products round differently with the alignment of their operands, so results would differ in the
    /// last bit from one run to the next.
    /// </summary>
    public static Tensor Aligned(double[] values, params long[] shape) => torch.tensor(values, shape, ScalarType.Float64).clone();

    /// <summary>The tensor's values in row-major order, read in place; valid while the tensor lives (its dispose scope).</summary>
    public static ReadOnlySpan<double> Values(Tensor t) =>
        MemoryMarshal.Cast<byte, double>(t.to_type(ScalarType.Float64).contiguous().bytes);

    public static double[] Flat(Tensor t) => Values(t).ToArray();

    /// <summary>[B, C] tensor to B arrays.</summary>
    public static double[][] ToRows(Tensor t) => Split(Values(t), (int)t.shape[0], (int)t.shape[1]);

    /// <summary>Row-major values as <paramref name="rows"/> arrays of <paramref name="cols"/>.</summary>
    public static double[][] Split(ReadOnlySpan<double> values, int rows, int cols)
    {
        var result = new double[rows][];
        for (int r = 0; r < rows; r++)
            result[r] = values.Slice(r * cols, cols).ToArray();
        return result;
    }
}

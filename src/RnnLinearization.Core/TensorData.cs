using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>Moves numbers between .NET arrays and float64 tensors. Callers own the dispose scope.</summary>
internal static class TensorData
{
    /// <summary>Rows (already checked to have <paramref name="columns"/> values each) as a [rows, columns] tensor.</summary>
    public static Tensor FromRows(IReadOnlyList<double[]> rows, int columns)
    {
        var flat = new double[rows.Count * columns];
        for (int r = 0; r < rows.Count; r++)
            Array.Copy(rows[r], 0, flat, r * columns, columns);
        return torch.tensor(flat, new long[] { rows.Count, columns }, ScalarType.Float64);
    }

    public static double[] Flat(Tensor t) => t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>[B, C] tensor to B arrays.</summary>
    public static double[][] ToRows(Tensor t)
    {
        var flat = Flat(t);
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        return Split(flat, 0, rows, cols);
    }

    /// <summary>[B, R, C] tensor to B matrices of R rows.</summary>
    public static double[][][] ToMatrices(Tensor t)
    {
        var flat = Flat(t);
        int batch = (int)t.shape[0], rows = (int)t.shape[1], cols = (int)t.shape[2];
        var result = new double[batch][][];
        for (int b = 0; b < batch; b++)
            result[b] = Split(flat, b * rows * cols, rows, cols);
        return result;
    }

    private static double[][] Split(double[] flat, int offset, int rows, int cols)
    {
        var result = new double[rows][];
        for (int r = 0; r < rows; r++)
        {
            result[r] = new double[cols];
            Array.Copy(flat, offset + r * cols, result[r], 0, cols);
        }
        return result;
    }
}

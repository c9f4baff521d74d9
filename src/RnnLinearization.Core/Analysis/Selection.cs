using System.Numerics;

namespace RnnLinearization.Core;

/// <summary>
/// One mode k of the linearisation h' ~ J h + J_x u at a state, seen from the inputs and the readout (Mante et al.
/// 2013): the input overlap l_k J_x (how much each input drives the mode; l_k is the left eigenvector, the
/// selection vector), the output overlap C r_k (how much the readout sees of its right eigenvector r_k; C is the
/// readout's Jacobian d y / d h), and the steady-state gain G_k = Re[(C r_k)(l_k J_x) / (1 - lambda_k)], [output][input]:
/// what the mode adds to the readout's lasting response to a constant change of the inputs. Over all modes the gains
/// sum to C (I - J)^-1 J_x; a complex pair's two modes carry equal halves of its real total. ConditionNumber is
/// |l_k| |r_k|, the eigenvalue's sensitivity (1 for a normal matrix's modes).
/// </summary>
public sealed record ModeSelection(Complex[] InputOverlap, Complex[]? OutputOverlap, double[][]? Gain, double ConditionNumber);

public static class Selection
{
    /// <summary>
    /// Each mode of a decomposition with left eigenvectors, given the input Jacobian [S][I] and, when the model has a
    /// readout, the readout's Jacobian [O][S] (<see cref="RnnModel.OutputJacobian"/>).
    /// </summary>
    public static ModeSelection[] Of(EigenResult spectrum, double[][] inputJacobian, double[][]? outputJacobian)
    {
        var (right, left) = (spectrum.Eigenvectors, spectrum.LeftEigenvectors);
        if (right is null || left is null)
            throw new ArgumentException("The decomposition has no left eigenvectors.", nameof(spectrum));
        int n = spectrum.Eigenvalues.Length, inputs = inputJacobian.Length == 0 ? 0 : inputJacobian[0].Length;
        var modes = new ModeSelection[n];
        for (int k = 0; k < n; k++)
        {
            var input = new Complex[inputs];
            for (int j = 0; j < inputs; j++)
            {
                Complex sum = 0;
                for (int i = 0; i < n; i++) sum += left[k][i] * inputJacobian[i][j];
                input[j] = sum;
            }
            Complex[]? output = null;
            double[][]? gain = null;
            if (outputJacobian is not null)
            {
                output = outputJacobian.Select(row =>
                {
                    Complex sum = 0;
                    for (int i = 0; i < n; i++) sum += row[i] * right[k][i];
                    return sum;
                }).ToArray();
                var denominator = 1 - spectrum.Eigenvalues[k];
                // At lambda = 1 the mode integrates a constant input without bound: an infinite gain of the numerator's sign.
                gain = output.Select(o => input.Select(x => denominator == Complex.Zero
                    ? (o * x).Real is var n && n != 0 ? Math.CopySign(double.PositiveInfinity, n) : 0
                    : (o * x / denominator).Real).ToArray()).ToArray();
            }
            modes[k] = new ModeSelection(input, output, gain, VectorMath.Norm(left[k]) * VectorMath.Norm(right[k]));
        }
        return modes;
    }

    /// <summary>
    /// The spectra with right and left eigenvectors at a batch of states, and each one's modes (see <see cref="Of"/>).
    /// With a region, the region's own block: its rows of J_x and its columns of the readout's Jacobian.
    /// </summary>
    /// <remarks>Modes is null for a state whose Jacobian is defective (no left eigenvectors): see <see cref="Spectrum.Defective"/>.</remarks>
    public static (EigenResult Spectrum, ModeSelection[]? Modes)[] FromModel(RnnModel model, IReadOnlyList<double[]> inputs,
        IReadOnlyList<double[]> states, EigenSort sort, Precision precision = Precision.Double, UnitRange? region = null)
    {
        var spectra = Spectrum.FromModel(model, inputs, states, sort, Vectors.Left, precision, region, out var inputJacobians);
        var result = new (EigenResult, ModeSelection[]?)[spectra.Length];
        for (int b = 0; b < spectra.Length; b++)
        {
            if (spectra[b].LeftEigenvectors is null) { result[b] = (spectra[b], null); continue; }
            var c = model.OutputJacobian(states[b]);
            if (c is not null && region is not null) c = c.Select(row => row.AsSpan(region.Start, region.Count).ToArray()).ToArray();
            result[b] = (spectra[b], Of(spectra[b], inputJacobians![b], c));
        }
        return result;
    }

}

namespace RnnLinearization.Core;

/// <summary>
/// A linear readout y = W r + b saved next to the network (an nn.Linear such as readout.weight [O, H]). What it reads,
/// r, is the model's <see cref="RnnModel.ReadoutInput"/>: the top layer's h for nn.RNN, nn.GRU and nn.LSTM, the rates
/// f(x) of a leaky rate network.
/// </summary>
public sealed class Readout
{
    public Readout(string prefix, Parameter weight, Parameter? bias)
    {
        Prefix = prefix;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>The key prefix the readout was found under, e.g. "readout." for readout.weight.</summary>
    public string Prefix { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public int OutputSize => (int)Weight.Rows;
    public int InputSize => (int)Weight.Columns;

    /// <summary>W r + b for one vector r of <see cref="InputSize"/> values.</summary>
    public double[] Apply(ReadOnlySpan<double> r)
    {
        var y = new double[OutputSize];
        var w = Weight.Data;
        for (int o = 0; o < y.Length; o++)
        {
            double sum = Bias?.Data[o] ?? 0;
            var row = w.AsSpan(o * InputSize, InputSize);
            for (int i = 0; i < row.Length; i++) sum += row[i] * r[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>The readout's parameters under their state_dict keys, as a file holds them.</summary>
    public IEnumerable<KeyValuePair<string, Parameter>> Keys()
    {
        yield return new(Prefix + "weight", Weight);
        if (Bias is not null) yield return new(Prefix + "bias", Bias);
    }
}

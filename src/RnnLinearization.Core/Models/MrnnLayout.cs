namespace RnnLinearization.Core;

/// <summary>
/// mRNNTorch's layout (JohnLazzari/mRNNTorch, the multi-region toolkit): W_rec, W_rec_mask, W_rec_sign_matrix, W_inp,
/// W_inp_mask (and W_inp_sign_matrix) under the network's prefix. Its effective weights, as its mRNN class computes
/// them with Dale's law on the recurrent weights (rec_constrained, its default) and the input under its mask (the
/// inp_constrained=False of its examples): W = W_rec_mask * |W_rec| * W_rec_sign_matrix and W_in = W_inp * W_inp_mask.
/// The file does not record its tonic input (the regions' base firing lives outside the state_dict): it is zero.
/// </summary>
internal static class MrnnLayout
{
    /// <summary>
    /// The state_dict in this module's names when <paramref name="sd"/> is in mRNNTorch's layout (else null): an Elman
    /// nn.RNN's weight_ih_l0 and weight_hh_l0, or with <paramref name="architecture"/> LeakyRnn its weight_hh (W_rec),
    /// mask_hh and sign (one per presynaptic column), which give the same W. The masks and signs are kept either way,
    /// and units of one sign in one block become the regions Excitatory and Inhibitory.
    /// </summary>
    public static (Dictionary<string, Parameter> StateDict, IReadOnlyDictionary<string, UnitRange>? Regions)? Convert(
        IReadOnlyDictionary<string, Parameter> sd, string? prefix, Architecture? architecture, List<string> notes)
    {
        if (architecture is not (null or Architecture.Rnn or Architecture.LeakyRnn)) return null;
        var found = sd.Keys.Where(k => k.EndsWith("W_rec", StringComparison.Ordinal) && sd.ContainsKey(k[..^"W_rec".Length] + "W_inp"))
            .Select(k => k[..^"W_rec".Length]).ToList();
        string p = prefix is null ? found.Count == 1 ? found[0] : "" : prefix.Length == 0 || prefix.EndsWith('.') ? prefix : prefix + ".";
        if (!found.Contains(p) || sd.Keys.Any(k => k == p + "weight_hh" || k == p + "weight_hh_l0")) return null;
        var w = sd[p + "W_rec"];
        var win = sd[p + "W_inp"];
        if (w.Shape.Length != 2 || w.Rows != w.Columns || win.Shape.Length != 2 || win.Rows != w.Rows)
            throw new RnnException("ParameterShapeMismatch", RnnErrorKind.InvalidData,
                $"'{p}W_rec' [{string.Join(", ", w.Shape)}] and '{p}W_inp' [{string.Join(", ", win.Shape)}] are not an mRNNTorch network's [H, H] and [H, I].");
        if (w.Rows > 46340) throw new RnnException("ParameterShapeMismatch", RnnErrorKind.InvalidData, $"'{p}W_rec' has {w.Rows:#,0} units, more than one array holds squared.");
        int h = (int)w.Rows;
        MemoryGuard.Require(8.0 * 5 * h * h, $"An mRNNTorch network of {h:#,0} units");
        var mask = Same(sd, p + "W_rec_mask", w) ?? Ones(h * h);
        var sign = Same(sd, p + "W_rec_sign_matrix", w);
        var inputMask = Same(sd, p + "W_inp_mask", win);
        var inputWeight = inputMask is null ? win.Data : win.Data.Zip(inputMask, (a, b) => a * b).ToArray();
        var result = sd.Where(kv => !(kv.Key.StartsWith(p, StringComparison.Ordinal) && Keys.Contains(kv.Key[p.Length..]))).ToDictionary(kv => kv.Key, kv => kv.Value);

        // One sign per presynaptic column, and the mask absorbs |sign| (0 off the mask): exact when each column's signs agree.
        double[]? columnSign = sign is null ? null : ColumnSigns(sign, h);
        double[] effectiveMask = sign is null ? mask : mask.Zip(sign, (m, s) => m * Math.Abs(s)).ToArray();
        double[] effective = sign is null
            ? w.Data.Zip(mask, (a, m) => a * m).ToArray()
            : Enumerable.Range(0, h * h).Select(i => mask[i] * Math.Abs(w.Data[i]) * sign[i]).ToArray();
        bool leaky = architecture == Architecture.LeakyRnn;
        if (leaky && (sign is null || columnSign is not null))
        {
            result[p + "weight_hh"] = w;   // LeakyRnn forms mask * |W| * sign itself
            result[p + "mask_hh"] = new Parameter(new long[] { h, h }, effectiveMask);
        }
        else
        {
            result[p + (leaky ? "weight_hh" : "weight_hh_l0")] = new Parameter(new long[] { h, h }, effective);
            if (!leaky) result[p + "mask_hh"] = new Parameter(new long[] { h, h }, effectiveMask);   // kept to be read; W already has it
        }
        if (columnSign is not null) result[p + "sign"] = new Parameter(new long[] { h }, columnSign);
        result[p + (leaky ? "weight_ih" : "weight_ih_l0")] = new Parameter(win.Shape, inputWeight);
        notes.Add($"mRNNTorch layout: '{p}W_rec' with Dale's law (W = W_rec_mask * |W_rec| * W_rec_sign_matrix), input W_inp * W_inp_mask " +
            "(inp_constrained=False, as mRNNTorch's examples train; W_inp_sign_matrix is not applied); " +
            $"no tonic input (its regions' base firing is not in the file). Loaded as {(leaky ? "its leaky mRNN (x' = x + alpha (-x + W f(x) + W_in u))" : "its Elman form h' = f(W h + W_in u) (EmRNN); -Architecture LeakyRnn -Alpha gives its leaky mRNN")}.");
        if (sign is not null && columnSign is null)
            notes.Add("mRNNTorch layout: the sign matrix's signs differ within a column, so no one sign per unit is kept; W is the effective matrix.");
        return (result, columnSign is null ? null : SignRegions(columnSign, notes));
    }

    /// <summary>The keys mRNNTorch's mRNN holds, replaced by this module's names.</summary>
    private static readonly HashSet<string> Keys = new(StringComparer.Ordinal) { "W_rec", "W_rec_mask", "W_rec_sign_matrix", "W_inp", "W_inp_mask", "W_inp_sign_matrix" };

    /// <summary>A mask or sign matrix of its weights' shape, or none; another shape is an error (it would be dropped silently).</summary>
    private static double[]? Same(IReadOnlyDictionary<string, Parameter> sd, string key, Parameter like) =>
        !sd.TryGetValue(key, out var p) ? null
            : p.Shape.SequenceEqual(like.Shape) ? p.Data
            : throw new RnnException("ParameterShapeMismatch", RnnErrorKind.InvalidData,
                $"'{key}' has shape [{string.Join(", ", p.Shape)}]; mRNNTorch's masks and sign matrices have their weights' shape [{string.Join(", ", like.Shape)}].");

    private static double[] Ones(int n) => Enumerable.Repeat(1.0, n).ToArray();

    /// <summary>The sign of each column's non-zero entries, +1 for a column of zeros; null when a column has both.</summary>
    private static double[]? ColumnSigns(double[] sign, int h)
    {
        var result = new double[h];
        for (int j = 0; j < h; j++)
        {
            double s = 0;
            for (int i = 0; i < h; i++)
            {
                double v = Math.Sign(sign[i * h + j]);
                if (v == 0) continue;
                if (s != 0 && v != s) return null;
                s = v;
            }
            result[j] = s == 0 ? 1 : s;
        }
        return result;
    }

    /// <summary>Excitatory and Inhibitory units as regions, when each sign's units form one contiguous block.</summary>
    private static IReadOnlyDictionary<string, UnitRange>? SignRegions(double[] sign, List<string> notes)
    {
        int changes = 0;
        for (int i = 1; i < sign.Length; i++) if (sign[i] != sign[i - 1]) changes++;
        if (changes > 1 || !sign.Contains(-1.0)) return null;
        int split = changes == 0 ? sign.Length : Array.FindIndex(sign, 1, s => s != sign[0]);
        var regions = new Dictionary<string, UnitRange>(StringComparer.OrdinalIgnoreCase);
        foreach (var (start, end) in new[] { (0, split), (split, sign.Length) }.Where(r => r.Item2 > r.Item1))
        {
            string name = sign[start] > 0 ? "Excitatory" : "Inhibitory";
            regions[name] = new UnitRange(name, start, end);
        }
        notes.Add("Regions: " + string.Join(", ", regions.Values.Select(r => $"{r.Name} [{r.Start}, {r.End})")) + ", from the units' Dale signs.");
        return regions;
    }
}

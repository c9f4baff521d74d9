namespace RnnLinearization.Core;

/// <summary>Builds models from state_dict parameters (loaded or freshly initialised). The one place that knows PyTorch's key names.</summary>
public static class ModelFactory
{
    private const string FirstKey = "weight_ih_l0";

    /// <summary>
    /// Finds the recurrent weights (under <paramref name="prefix"/>, or the only prefix that has them),
    /// infers the architecture and layer count from the shapes, checks them, and builds the model.
    /// </summary>
    /// <param name="readout">Key prefix of the linear readout to use ("readout" for readout.weight); found by itself when null.</param>
    /// <param name="noReadout">Ignores any readout in the file.</param>
    public static RnnModel FromStateDict(IReadOnlyDictionary<string, Parameter> stateDict, Architecture? architecture,
        Nonlinearity nonlinearity, string? prefix, double? alpha = null, string? readout = null, bool noReadout = false)
    {
        var (model, rnnPrefix) = architecture == Architecture.LeakyRnn
            ? Leaky(stateDict, nonlinearity, prefix, alpha)
            : Recurrent(stateDict, architecture, nonlinearity, prefix);
        if (alpha is not null && model is not LeakyRnn)
            throw new RnnException("AlphaNotApplicable", RnnErrorKind.InvalidArgument,
                $"-Alpha (or -Dt and -Tau) is the step of a leaky rate network; this file holds an {model.Architecture} network, which has none. " +
                "Leave it out, or give -Architecture LeakyRnn if the file is a leaky rate network.");
        if (!noReadout) model.Readout = FindReadout(stateDict, rnnPrefix, model, readout);
        else if (readout is not null)
            throw new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument, "-Readout names a readout and -NoReadout ignores it; give one of them.");
        return model;
    }

    /// <summary>
    /// The linear readout: the one 2-D '...weight' outside the RNN whose width is what the readout reads (the top
    /// layer's h), with its '...bias'. Several candidates are not guessed between: a note names them.
    /// </summary>
    private static Readout? FindReadout(IReadOnlyDictionary<string, Parameter> sd, string rnnPrefix, RnnModel model, string? chosen)
    {
        int width = model.ReadoutInputSize;
        if (chosen is not null)
        {
            string p = Dotted(chosen);
            if (!sd.TryGetValue(p + "weight", out var w))
                throw new RnnException("ReadoutNotFound", RnnErrorKind.InvalidArgument,
                    $"No key '{p}weight' in the state_dict for -Readout {chosen}. Keys ending in 'weight': {string.Join(", ", sd.Keys.Where(k => k.EndsWith("weight", StringComparison.Ordinal)).Take(12))}.");
            return Checked(MakeReadout(sd, p, w, width) ?? throw new RnnException("ReadoutShapeMismatch", RnnErrorKind.InvalidData,
                $"'{p}weight' has shape [{string.Join(", ", w.Shape)}]; a readout of this model needs [outputs, {width}] (it reads the top layer's {width} values)."));
        }
        var found = sd.Where(kv => (kv.Key == "weight" || kv.Key.EndsWith(".weight", StringComparison.Ordinal)) && kv.Key[..^"weight".Length] != rnnPrefix)
            .Select(kv => MakeReadout(sd, kv.Key[..^"weight".Length], kv.Value, width)).OfType<Readout>().OrderBy(r => r.Prefix, StringComparer.Ordinal).ToList();
        if (found.Count == 1)
        {
            model.Notes.Add($"Readout: '{found[0].Prefix}weight' [{found[0].OutputSize}, {width}]{(found[0].Bias is null ? "" : " with its bias")}; -NoReadout ignores it.");
            return Checked(found[0]);
        }
        if (found.Count > 1)
            model.Notes.Add($"No readout: several layers could be one ({string.Join(", ", found.Select(r => "'" + r.Prefix.TrimEnd('.') + "'"))}); choose with -Readout.");
        return null;
    }

    private static Readout? MakeReadout(IReadOnlyDictionary<string, Parameter> sd, string prefix, Parameter weight, int width)
    {
        if (weight.Shape.Length != 2 || weight.Columns != width || weight.Rows < 1) return null;
        sd.TryGetValue(prefix + "bias", out var bias);
        if (bias is not null && (bias.Shape.Length != 1 || bias.Shape[0] != weight.Rows)) bias = null;
        return new Readout(prefix, weight, bias);
    }

    private static Readout Checked(Readout r)
    {
        Finite(r.Prefix + "weight", r.Weight);
        if (r.Bias is not null) Finite(r.Prefix + "bias", r.Bias);
        return r;
    }

    private static string Dotted(string prefix) => prefix.Length == 0 || prefix.EndsWith('.') ? prefix : prefix + ".";

    /// <summary>
    /// nn.RNNCell, nn.GRUCell and nn.LSTMCell keep weight_ih, weight_hh, bias_ih and bias_hh (no _l0): they are one-layer
    /// networks, given the layer names here. The same names with bias, mask_hh or sign are a leaky rate network's.
    /// </summary>
    private static (IReadOnlyDictionary<string, Parameter>, bool Cell) AsLayers(IReadOnlyDictionary<string, Parameter> sd)
    {
        if (sd.Keys.Any(k => k.EndsWith(FirstKey, StringComparison.Ordinal))) return (sd, false);
        var cells = sd.Keys.Where(k => k.EndsWith("weight_ih", StringComparison.Ordinal) && sd.ContainsKey(k[..^"weight_ih".Length] + "weight_hh"))
            .Select(k => k[..^"weight_ih".Length]).ToList();
        var leaky = cells.Where(p => sd.ContainsKey(p + "bias") || sd.ContainsKey(p + "mask_hh") || sd.ContainsKey(p + "sign")).ToList();
        if (cells.Count > 0 && leaky.Count == cells.Count)
            throw new RnnException("LeakyRnnArchitectureRequired", RnnErrorKind.InvalidArgument,
                "The keys (weight_hh, weight_ih with bias, mask_hh or sign) are those of a leaky rate network: import it with " +
                "-Architecture LeakyRnn and -Alpha (or -Dt and -Tau).");
        if (cells.Count == leaky.Count) return (sd, false);
        var result = new Dictionary<string, Parameter>(sd);
        foreach (var p in cells.Except(leaky))
            foreach (var name in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" })
                if (sd.TryGetValue(p + name, out var v)) result[p + name + "_l0"] = v;
        return (result, true);
    }

    private static (RnnModel, string) Recurrent(IReadOnlyDictionary<string, Parameter> keys, Architecture? architecture,
        Nonlinearity nonlinearity, string? prefix)
    {
        var (stateDict, cell) = AsLayers(keys);
        if (nonlinearity is not (Nonlinearity.Tanh or Nonlinearity.Relu))
            throw new RnnException("NonlinearityNotSupported", RnnErrorKind.InvalidArgument,
                $"nn.RNN takes Tanh or Relu, not {nonlinearity}; other nonlinearities are for -Architecture LeakyRnn.");
        string p = ResolvePrefix(stateDict, prefix);
        if (stateDict.ContainsKey(p + FirstKey + "_reverse"))
            throw new RnnException("BidirectionalNotSupported", RnnErrorKind.NotImplemented,
                "The RNN is bidirectional; a bidirectional network has no single next-state map to linearise.");
        if (stateDict.Keys.Any(k => k.StartsWith(p + "weight_hr_l", StringComparison.Ordinal)))
            throw new RnnException("ProjectionNotSupported", RnnErrorKind.NotImplemented, "LSTM projections (proj_size) are not supported.");

        var own = new Dictionary<string, Parameter>();
        int layers = 0;
        while (stateDict.ContainsKey($"{p}weight_ih_l{layers}")) layers++;
        var whh0 = Require(stateDict, p, "weight_hh_l0");
        int hidden = (int)whh0.Columns;
        if (whh0.Shape.Length != 2 || hidden == 0 || whh0.Rows % hidden != 0)
            throw Shape($"weight_hh_l0 has shape [{string.Join(", ", whh0.Shape)}]; expected [G*H, H].");
        var inferred = (whh0.Rows / hidden) switch
        {
            1 => Architecture.Rnn,
            3 => Architecture.Gru,
            4 => Architecture.Lstm,
            _ => throw Shape($"weight_hh_l0 has {whh0.Rows} rows for hidden size {hidden}: not 1, 3 or 4 gates."),
        };
        if (architecture is { } given && given != inferred)
            throw new RnnException("ArchitectureMismatch", RnnErrorKind.InvalidData,
                $"The weights are those of {inferred} (weight_hh_l0 has {whh0.Rows} rows for hidden size {hidden}), not {given}.");
        if (inferred is not (Architecture.Rnn or Architecture.Gru or Architecture.Lstm)) throw ModelLoader.NotYet(inferred.ToString());
        int rows = (int)whh0.Rows;   // gates * hidden
        TorchRuntime.EnsureLoaded();

        bool hasBias = stateDict.ContainsKey(p + "bias_ih_l0");
        int inputSize = (int)Require(stateDict, p, FirstKey).Columns;
        for (int l = 0; l < layers; l++)
        {
            int below = l == 0 ? inputSize : hidden;
            own[$"weight_ih_l{l}"] = Expect(stateDict, p, $"weight_ih_l{l}", rows, below);
            own[$"weight_hh_l{l}"] = Expect(stateDict, p, $"weight_hh_l{l}", rows, hidden);
            if (hasBias)
            {
                own[$"bias_ih_l{l}"] = Expect(stateDict, p, $"bias_ih_l{l}", rows);
                own[$"bias_hh_l{l}"] = Expect(stateDict, p, $"bias_hh_l{l}", rows);
            }
        }
        RnnModel model = inferred switch
        {
            Architecture.Gru => new GruRnn(inputSize, hidden, layers, hasBias, own),
            Architecture.Lstm => new LstmRnn(inputSize, hidden, layers, hasBias, own),
            _ => new ElmanRnn(inputSize, hidden, layers, nonlinearity, hasBias, own),
        };
        if (cell)
            model.Notes.Add($"Cell: '{p}weight_ih' and '{p}weight_hh' (an nn.{(inferred == Architecture.Rnn ? "RNN" : inferred.ToString().ToUpperInvariant())}Cell) " +
                "loaded as a one-layer network; for a leaky rate network give -Architecture LeakyRnn.");
        return (model, p);
    }

    /// <summary>The leaky rate network: keys weight_hh, weight_ih, optional bias, mask_hh and sign, under an optional prefix.</summary>
    private static (RnnModel, string) Leaky(IReadOnlyDictionary<string, Parameter> sd, Nonlinearity nonlinearity, string? prefix, double? alpha)
    {
        if (alpha is not { } a || !(a > 0 && a <= 1))
            throw new RnnException("InvalidAlpha", RnnErrorKind.InvalidArgument,
                $"A LeakyRnn needs alpha = dt / tau in (0, 1]{(alpha is null ? "; give -Alpha, or -Dt and -Tau" : $", not {alpha}")}.");
        var found = sd.Keys.Where(k => k.EndsWith("weight_hh", StringComparison.Ordinal)).Select(k => k[..^"weight_hh".Length]).ToList();
        string p = prefix is null
            ? found.Count == 1 ? found[0] : throw new RnnException(found.Count == 0 ? "NoRecurrentWeights" : "AmbiguousPrefix",
                found.Count == 0 ? RnnErrorKind.InvalidData : RnnErrorKind.InvalidArgument,
                found.Count == 0 ? "The state_dict has no key ending in 'weight_hh' for a LeakyRnn." : $"Several prefixes hold 'weight_hh' ({Describe(found)}); choose one with -Prefix.")
            : Dotted(prefix);
        var whh = Require(sd, p, "weight_hh");
        int hidden = (int)whh.Rows;
        var own = new Dictionary<string, Parameter> { ["weight_hh"] = Expect(sd, p, "weight_hh", hidden, hidden) };
        var wih = Require(sd, p, "weight_ih");
        own["weight_ih"] = Expect(sd, p, "weight_ih", hidden, wih.Columns);
        if (sd.ContainsKey(p + "bias")) own["bias"] = Expect(sd, p, "bias", hidden);
        if (sd.ContainsKey(p + "mask_hh")) own["mask_hh"] = Expect(sd, p, "mask_hh", hidden, hidden);
        if (sd.ContainsKey(p + "sign")) own["sign"] = Expect(sd, p, "sign", hidden);
        TorchRuntime.EnsureLoaded();
        return (new LeakyRnn((int)wih.Columns, hidden, nonlinearity, a, own), p);
    }

    /// <summary>A new network with PyTorch's default initialisation: every weight and bias uniform in (-1/sqrt(H), 1/sqrt(H)).</summary>
    public static RnnModel Create(Architecture architecture, int inputSize, int hiddenSize, int numLayers,
        Nonlinearity nonlinearity, bool hasBias, int? seed, double? alpha = null)
    {
        int gates = architecture switch
        {
            Architecture.Rnn or Architecture.LeakyRnn => 1,
            Architecture.Gru => 3,
            Architecture.Lstm => 4,
            _ => throw new RnnException("ArchitectureNotSupported", RnnErrorKind.InvalidArgument,
                $"New-RnnModel makes Rnn, Gru, Lstm and LeakyRnn networks; a {architecture} cell is scripted in Python and imported with Import-RnnModel."),
        };
        if (architecture is Architecture.Gru or Architecture.Lstm && nonlinearity != Nonlinearity.Tanh)
            throw new RnnException("NonlinearityNotApplicable", RnnErrorKind.InvalidArgument,
                $"-Nonlinearity {nonlinearity} does not apply to a {architecture}, whose gates use sigmoid and tanh; leave it out.");
        if (architecture == Architecture.LeakyRnn && numLayers != 1)
            throw new RnnException("InvalidModelSize", RnnErrorKind.InvalidArgument, "A LeakyRnn has one layer.");
        if (inputSize < 1 || hiddenSize < 1 || numLayers < 1)
            throw new RnnException("InvalidModelSize", RnnErrorKind.InvalidArgument, "InputSize, HiddenSize and NumLayers must be at least 1.");
        long perLayer = (long)gates * hiddenSize * ((long)Math.Max(inputSize, hiddenSize) + hiddenSize + 2);
        MemoryGuard.Require(8.0 * 3 * perLayer * numLayers, $"A {architecture} of {numLayers} layer(s) of {hiddenSize} units");
        var random = seed is { } s ? new Random(s) : new Random();
        double k = 1.0 / Math.Sqrt(hiddenSize);
        // Values are rounded to float32, as PyTorch's parameters are, so exports are exact.
        Parameter Uniform(params long[] shape)
        {
            var data = new double[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)((2 * random.NextDouble() - 1) * k);
            return new Parameter(shape, data);
        }
        var sd = new Dictionary<string, Parameter>();
        if (architecture == Architecture.LeakyRnn)
        {
            sd["weight_hh"] = Uniform(hiddenSize, hiddenSize);
            sd["weight_ih"] = Uniform(hiddenSize, inputSize);
            if (hasBias) sd["bias"] = Uniform(hiddenSize);
            return FromStateDict(sd, architecture, nonlinearity, "", alpha);
        }
        for (int l = 0; l < numLayers; l++)
        {
            sd[$"weight_ih_l{l}"] = Uniform(gates * hiddenSize, l == 0 ? inputSize : hiddenSize);
            sd[$"weight_hh_l{l}"] = Uniform(gates * hiddenSize, hiddenSize);
            if (hasBias)
            {
                sd[$"bias_ih_l{l}"] = Uniform(gates * hiddenSize);
                sd[$"bias_hh_l{l}"] = Uniform(gates * hiddenSize);
            }
        }
        return FromStateDict(sd, architecture, nonlinearity, "");
    }

    /// <summary>Writes the model as safetensors under PyTorch's key names, with architecture and nonlinearity as metadata.</summary>
    public static void Export(RnnModel model, string path)
    {
        if (model is ScriptedRnn)
            throw new RnnException("ExportNotSupported", RnnErrorKind.InvalidArgument,
                "A TorchScript cell is its archive: copy the file it was imported from; safetensors cannot hold its code.");
        if (!string.Equals(System.IO.Path.GetExtension(path), ".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new RnnException("ExportExtension", RnnErrorKind.InvalidArgument,
                $"Export-RnnModel writes safetensors, not torch.save's format: name the file .safetensors, not '{System.IO.Path.GetFileName(path)}' " +
                "(in Python: safetensors.torch.load_file(path)).");
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = model.Architecture.ToString(),
            ["nonlinearity"] = model.Nonlinearity?.ToString().ToLowerInvariant() ?? "",
            ["format"] = "pt",
        };
        if (model is LeakyRnn leaky) metadata["alpha"] = leaky.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var parameters = model.Readout is null ? model.Parameters
            : model.Parameters.Concat(model.Readout.Keys()).ToDictionary(kv => kv.Key, kv => kv.Value);
        try { SafeTensors.Write(path, parameters, metadata); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("ModelFileUnwritable", RnnErrorKind.WriteError, $"'{path}' cannot be written: {ex.Message}", ex);
        }
    }

    private static string ResolvePrefix(IReadOnlyDictionary<string, Parameter> sd, string? prefix)
    {
        var found = sd.Keys.Where(k => k.EndsWith(FirstKey, StringComparison.Ordinal))
            .Select(k => k[..^FirstKey.Length]).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (prefix is not null)
        {
            string p = Dotted(prefix);
            if (found.Contains(p)) return p;
            throw new RnnException("PrefixNotFound", RnnErrorKind.InvalidArgument,
                $"No key '{p}{FirstKey}' in the state_dict. Prefixes that hold RNN weights: {Describe(found)}.");
        }
        return found.Count switch
        {
            1 => found[0],
            0 => throw new RnnException("NoRecurrentWeights", RnnErrorKind.InvalidData,
                $"The state_dict has no RNN weights (no key ending in '{FirstKey}'). Its keys: {string.Join(", ", sd.Keys.Take(8))}{(sd.Count > 8 ? ", ..." : "")}."),
            _ => throw new RnnException("AmbiguousPrefix", RnnErrorKind.InvalidArgument,
                $"The state_dict holds several RNNs ({Describe(found)}); choose one with -Prefix."),
        };
    }

    private static string Describe(IEnumerable<string> prefixes) =>
        string.Join(", ", prefixes.Select(p => p.Length == 0 ? "(none)" : "'" + p.TrimEnd('.') + "'").DefaultIfEmpty("none"));

    private static Parameter Require(IReadOnlyDictionary<string, Parameter> sd, string prefix, string key) =>
        sd.TryGetValue(prefix + key, out var value) ? value
            : throw new RnnException("MissingParameter", RnnErrorKind.InvalidData, $"The state_dict lacks '{prefix}{key}'.");

    private static Parameter Expect(IReadOnlyDictionary<string, Parameter> sd, string prefix, string key, params long[] shape)
    {
        var value = Require(sd, prefix, key);
        if (!value.Shape.SequenceEqual(shape))
            throw Shape($"'{prefix}{key}' has shape [{string.Join(", ", value.Shape)}]; expected [{string.Join(", ", shape)}].");
        if (shape.Any(d => d == 0))
            throw Shape($"'{prefix}{key}' has shape [{string.Join(", ", value.Shape)}]: a network with no units or no inputs has nothing to analyse.");
        return Finite(prefix + key, value);
    }

    /// <summary>A NaN or infinite weight would make every result NaN without a word: refused at import, by name.</summary>
    private static Parameter Finite(string key, Parameter value)
    {
        int bad = 0;
        foreach (var v in value.Data) if (!double.IsFinite(v)) bad++;
        if (bad > 0)
            throw new RnnException("NonFiniteWeight", RnnErrorKind.InvalidData,
                $"'{key}' holds {bad} NaN or infinite value(s) of {value.Data.Length}: training diverged or the file is damaged.");
        return value;
    }

    private static RnnException Shape(string message) => new("ParameterShapeMismatch", RnnErrorKind.InvalidData, message);
}

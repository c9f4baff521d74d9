namespace RnnLinearization.Core;

/// <summary>Builds models from state_dict parameters (loaded or freshly initialised). The one place that knows PyTorch's key names.</summary>
public static class ModelFactory
{
    private const string FirstKey = "weight_ih_l0";

    /// <summary>
    /// Finds the recurrent weights (under <paramref name="prefix"/>, or the only prefix that has them), infers the
    /// architecture and layer count from the shapes, checks them, and builds the model. Files in mRNNTorch's layout are
    /// converted (<see cref="MrnnLayout"/>); a <paramref name="parameterMap"/> names a file's own keys instead.
    /// </summary>
    /// <param name="nonlinearity">Null when not given: taken from the pickled module when the file has one, else Tanh (assumed, and said so).</param>
    /// <param name="readout">The linear readout to use: a key prefix ("readout" for readout.weight) or a 2-D tensor's full key; found by itself when null.</param>
    /// <param name="noReadout">Ignores any readout in the file.</param>
    /// <param name="parameterMap">The module's parameter names mapped to the file's keys (see <see cref="ParameterMap"/>).</param>
    /// <param name="modules">What pickled recurrent modules record about themselves, by key prefix.</param>
    public static RnnModel FromStateDict(IReadOnlyDictionary<string, Parameter> stateDict, Architecture? architecture,
        Nonlinearity? nonlinearity, string? prefix, double? alpha = null, string? readout = null, bool noReadout = false,
        IReadOnlyDictionary<string, string[]>? parameterMap = null, IReadOnlyDictionary<string, ModuleFacts>? modules = null)
    {
        var notes = new List<string>();
        List<(string Key, string Name)>? unmapped = null;
        IReadOnlyDictionary<string, Parameter> sd = stateDict, readoutKeys = stateDict;
        IReadOnlyDictionary<string, UnitRange>? regions = null;
        if (parameterMap is not null)
        {
            if (prefix is not null)
                throw new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                    "-Prefix and -ParameterMap both say where the weights are: give -ParameterMap's keys in full (model_state.rnn.weight), without -Prefix.");
            var map = new ParameterMap(stateDict, parameterMap, architecture, notes);
            (sd, prefix) = (map, "");
            unmapped = map.Unmapped;
            readoutKeys = stateDict.Where(kv => !map.Used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        else if (MrnnLayout.Convert(stateDict, prefix, architecture, notes) is { } converted)
            (sd, readoutKeys, regions) = (converted.StateDict, converted.StateDict, converted.Regions);
        var (model, rnnPrefix) = architecture == Architecture.LeakyRnn
            ? Leaky(sd, nonlinearity, prefix, alpha)
            : Recurrent(sd, architecture, nonlinearity, prefix, modules);
        model.Notes.AddRange(notes);
        foreach (var (bias, name) in unmapped ?? new())
            model.Warnings.Add($"'{bias}' sits beside a weight that -ParameterMap maps but is not mapped itself, so the network has no such bias: add {name} = '{bias}' to the map if it is the layer's.");
        model.Regions ??= regions;
        if (alpha is not null && model is not LeakyRnn)
            throw new RnnException("AlphaNotApplicable", RnnErrorKind.InvalidArgument,
                $"-Alpha (or -Dt and -Tau) is the step of a leaky rate network; this file holds {Article(model.Architecture)} network, which has none. " +
                "Leave it out, or give -Architecture LeakyRnn if the file is a leaky rate network.");
        if (!noReadout) model.Readout = FindReadout(readoutKeys, rnnPrefix, model, readout, (parameterMap is null ? null : ((ParameterMap)sd).Used));
        else if (readout is not null)
            throw new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument, "-Readout names a readout and -NoReadout ignores it; give one of them.");
        return model;
    }

    /// <summary>
    /// The linear readout: the one 2-D '...weight' outside the RNN whose width is what the readout reads (the top
    /// layer's h), with its '...bias'. Several candidates are not guessed between: a note names them.
    /// </summary>
    private static Readout? FindReadout(IReadOnlyDictionary<string, Parameter> sd, string rnnPrefix, RnnModel model, string? chosen, IReadOnlySet<string>? used = null)
    {
        int width = model.ReadoutInputSize;
        if (chosen is not null)
        {
            // A 2-D tensor's own key (W_out, W_out.weight), or a prefix whose 'weight' is one (W_out for W_out.weight).
            var (p, weightKey) = sd.TryGetValue(chosen, out var own) && own.Shape.Length == 2
                ? (chosen.EndsWith("weight", StringComparison.Ordinal) ? chosen[..^"weight".Length] : chosen + ".", chosen)
                : (Dotted(chosen), Dotted(chosen) + "weight");
            if (!sd.TryGetValue(weightKey, out var w))
                throw new RnnException("ReadoutNotFound", RnnErrorKind.InvalidArgument,
                    (used?.Contains(chosen) == true || used?.Contains(weightKey) == true ? $"'{(used.Contains(chosen) ? chosen : weightKey)}' is one of the network's own weights (-ParameterMap names it), not a readout. "
                        : sd.TryGetValue(chosen, out var one) ? $"'{chosen}' has shape [{string.Join(", ", one.Shape)}]; a readout's weight is [outputs, {width}] (its bias comes with it: -Readout {chosen[..Math.Max(0, chosen.LastIndexOf('.'))]}). "
                        : $"No tensor '{chosen}' or '{weightKey}' in the file for -Readout {chosen}. ") +
                    $"2-D tensors it has: {string.Join(", ", sd.Where(kv => kv.Value.Shape.Length == 2).Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.Shape)}]").Take(12).DefaultIfEmpty("none"))}.");
            if (weightKey.StartsWith(rnnPrefix, StringComparison.Ordinal) && IsRecurrentKey(weightKey[rnnPrefix.Length..]))
                throw new RnnException("ReadoutNotFound", RnnErrorKind.InvalidArgument, $"'{weightKey}' is one of the network's own weights, not a readout.");
            return Checked(MakeReadout(sd, p, w, width) ?? throw new RnnException("ReadoutShapeMismatch", RnnErrorKind.InvalidData,
                $"'{weightKey}' has shape [{string.Join(", ", w.Shape)}]; a readout of this model needs [outputs, {width}] (it reads {(model is LeakyRnn ? "the rates f(x)" : "the top layer's h")}, {width} values)."));
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

    /// <summary>The parameter names of a recurrent layer or cell (weight_ih_l0, weight_hh, W_rec, ...), which no readout has.</summary>
    public static bool IsRecurrentKey(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, @"^(weight|bias)_(ih|hh|hr)(_l\d+)?(_reverse)?$|^W_(rec|inp)$");

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
        Nonlinearity? nonlinearity, string? prefix, IReadOnlyDictionary<string, ModuleFacts>? modules)
    {
        var (stateDict, cell) = AsLayers(keys);
        string p = ResolvePrefix(stateDict, prefix, architecture);
        var facts = modules is not null && modules.TryGetValue(p, out var recordedFacts) ? recordedFacts : null;
        if (stateDict.ContainsKey(p + FirstKey + "_reverse") || facts?.Bidirectional == true)
            throw new RnnException("BidirectionalNotSupported", RnnErrorKind.NotImplemented,
                "The RNN is bidirectional; a bidirectional network has no single next-state map to linearise.");
        if (stateDict.Keys.Any(k => k.StartsWith(p + "weight_hr_l", StringComparison.Ordinal)) || facts?.ProjSize > 0)
            throw new RnnException("ProjectionNotSupported", RnnErrorKind.NotImplemented, "LSTM projections (proj_size) are not supported.");

        var own = new Dictionary<string, Parameter>();
        int layers = 0;
        while (stateDict.ContainsKey($"{p}weight_ih_l{layers}")) layers++;
        var whh0 = Require(stateDict, p, "weight_hh_l0");
        int hidden = (int)whh0.Columns;
        if (whh0.Shape.Length != 2 || hidden == 0 || whh0.Rows % hidden != 0)
            throw Shape($"{Label(stateDict, p, "weight_hh_l0")} has shape [{string.Join(", ", whh0.Shape)}]; expected [G*H, H].");
        var inferred = (whh0.Rows / hidden) switch
        {
            1 => Architecture.Rnn,
            3 => Architecture.Gru,
            4 => Architecture.Lstm,
            _ => throw Shape($"{Label(stateDict, p, "weight_hh_l0")} has {whh0.Rows} rows for hidden size {hidden}: not 1, 3 or 4 gates."),
        };
        if (architecture is { } given && given != inferred)
            throw new RnnException("ArchitectureMismatch", RnnErrorKind.InvalidData,
                $"The weights are those of {inferred} (weight_hh_l0 has {whh0.Rows} rows for hidden size {hidden}), not {given}.");
        if (inferred is not (Architecture.Rnn or Architecture.Gru or Architecture.Lstm)) throw NotYet(inferred.ToString());
        bool assumed = false;
        if (inferred is Architecture.Gru or Architecture.Lstm)
        {
            if (nonlinearity is not (null or Nonlinearity.Tanh))
                throw new RnnException("NonlinearityNotApplicable", RnnErrorKind.InvalidArgument,
                    $"-Nonlinearity {nonlinearity} does not apply to an nn.{inferred.ToString().ToUpperInvariant()}, whose gates use sigmoid and tanh; leave it out.");
        }
        else if (facts?.Nonlinearity is { } recorded)
        {
            if (nonlinearity is { } asked && asked != recorded)
                throw new RnnException("NonlinearityMismatch", RnnErrorKind.InvalidArgument,
                    $"The file's {facts.Class} records nonlinearity {recorded}; -Nonlinearity {asked} contradicts it. Leave -Nonlinearity out.");
            nonlinearity = recorded;
        }
        else if (nonlinearity is null) assumed = true;
        var f = nonlinearity ?? Nonlinearity.Tanh;
        if (f is not (Nonlinearity.Tanh or Nonlinearity.Relu))
            throw new RnnException("NonlinearityNotSupported", RnnErrorKind.InvalidArgument,
                $"nn.RNN takes Tanh or Relu, not {f}; other nonlinearities are for -Architecture LeakyRnn (a linear recurrence h' = W h + W_in u + b is -Architecture LeakyRnn -Alpha 1 -Nonlinearity Linear).");
        int rows = (int)whh0.Rows;   // gates * hidden
        TorchRuntime.EnsureLoaded();

        bool hasBias = stateDict.ContainsKey(p + "bias_ih_l0");
        var wih0 = Require(stateDict, p, FirstKey);
        if (wih0.Shape.Length == 2 && wih0.Rows != rows && wih0.Columns == rows)
            throw Shape($"{Label(stateDict, p, FirstKey)} has shape [{string.Join(", ", wih0.Shape)}]; expected [{rows}, {wih0.Rows}] ([gates*hidden, inputs]): transposed?");
        int inputSize = (int)wih0.Columns;
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
        // mRNNTorch's mask and Dale signs (one layer), kept beside the weights they are already in: read now, checked.
        foreach (var (extra, shape) in new[] { ("mask_hh", new long[] { hidden, hidden }), ("sign", new long[] { hidden }) })
            if (layers == 1 && stateDict.TryGetValue(p + extra, out var value) && value.Shape.SequenceEqual(shape)) own[extra] = Finite(p + extra, value);
        RnnModel model = inferred switch
        {
            Architecture.Gru => new GruRnn(inputSize, hidden, layers, hasBias, own),
            Architecture.Lstm => new LstmRnn(inputSize, hidden, layers, hasBias, own),
            _ => new ElmanRnn(inputSize, hidden, layers, f, hasBias, own),
        };
        if (assumed) model.AssumeNonlinearity();
        else if (facts?.Nonlinearity is not null) model.Notes.Add($"Nonlinearity: {f}, as the file's {facts.Class} records.");
        if (cell)
            model.Notes.Add($"Cell: '{p}weight_ih' and '{p}weight_hh' (an nn.{(inferred == Architecture.Rnn ? "RNN" : inferred.ToString().ToUpperInvariant())}Cell) " +
                "loaded as a one-layer network; for a leaky rate network give -Architecture LeakyRnn.");
        return (model, p);
    }

    /// <summary>The leaky rate network: keys weight_hh, weight_ih, optional bias, mask_hh and sign, under an optional prefix.</summary>
    private static (RnnModel, string) Leaky(IReadOnlyDictionary<string, Parameter> sd, Nonlinearity? nonlinearity, string? prefix, double? alpha)
    {
        if (alpha is not { } a || !(a > 0 && a <= 1))
            throw new RnnException("InvalidAlpha", RnnErrorKind.InvalidArgument,
                $"A LeakyRnn needs alpha = dt / tau in (0, 1]{(alpha is null ? "; give -Alpha, or -Dt and -Tau" : $", not {alpha}")}.");
        var found = sd.Keys.Where(k => k.EndsWith("weight_hh", StringComparison.Ordinal)).Select(k => k[..^"weight_hh".Length]).ToList();
        var stacks = sd.Keys.Where(k => k.EndsWith(FirstKey, StringComparison.Ordinal)).Select(k => k[..^FirstKey.Length]).ToList();
        if (found.Count == 0 && stacks.Count > 0)
            throw new RnnException("ArchitectureMismatch", RnnErrorKind.InvalidData,
                $"The file holds an nn.RNN, nn.GRU or nn.LSTM (weight_ih_l0 under {Describe(stacks)}), not a leaky rate network: leave -Architecture LeakyRnn (and -Alpha) out.");
        string p = prefix is null
            ? found.Count == 1 ? found[0] : throw (found.Count == 0 ? NoWeights(sd, Architecture.LeakyRnn)
                : new RnnException("AmbiguousPrefix", RnnErrorKind.InvalidArgument, $"Several prefixes hold 'weight_hh' ({Describe(found)}); choose one with -Prefix."))
            : Dotted(prefix);
        if (!sd.ContainsKey(p + "weight_hh") && prefix is not null && found.Count > 0)
            throw new RnnException("PrefixNotFound", RnnErrorKind.InvalidArgument, $"No key '{p}weight_hh' in the file. Prefixes that hold it: {Describe(found)}.");
        var whh = Require(sd, p, "weight_hh");
        int hidden = (int)whh.Rows;
        var own = new Dictionary<string, Parameter> { ["weight_hh"] = Expect(sd, p, "weight_hh", hidden, hidden) };
        var wih = Require(sd, p, "weight_ih");
        if (wih.Shape.Length == 2 && wih.Rows != hidden && wih.Columns == hidden)
            throw Shape($"{Label(sd, p, "weight_ih")} has shape [{string.Join(", ", wih.Shape)}]; expected [{hidden}, {wih.Rows}] ([hidden, inputs]): transposed?");
        own["weight_ih"] = Expect(sd, p, "weight_ih", hidden, wih.Columns);
        if (sd.ContainsKey(p + "bias")) own["bias"] = Expect(sd, p, "bias", hidden);
        if (sd.ContainsKey(p + "mask_hh")) own["mask_hh"] = Expect(sd, p, "mask_hh", hidden, hidden);
        if (sd.ContainsKey(p + "sign")) own["sign"] = Expect(sd, p, "sign", hidden);
        TorchRuntime.EnsureLoaded();
        var model = new LeakyRnn((int)wih.Columns, hidden, nonlinearity ?? Nonlinearity.Tanh, a, own);
        if (nonlinearity is null) model.AssumeNonlinearity();
        return (model, p);
    }

    /// <summary>No recurrent weights: the keys the file has, the names the architecture needs, and -ParameterMap (built from the file's keys where it can be).</summary>
    private static RnnException NoWeights(IReadOnlyDictionary<string, Parameter> sd, Architecture? architecture)
    {
        var keys = sd.Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.Shape)}]").Take(20).ToList();
        bool leaky = architecture == Architecture.LeakyRnn;
        string needs = leaky
            ? "A LeakyRnn needs weight_hh [H, H] and weight_ih [H, I] (bias, mask_hh and sign optional)"
            : $"{(architecture is { } a ? $"{Article(a)} network" : "An nn.RNN, nn.GRU or nn.LSTM")} needs weight_ih_l0 [G*H, I] and weight_hh_l0 [G*H, H] (bias_ih_l0 and bias_hh_l0 optional; _l1, ... for more layers)";
        return new RnnException("NoRecurrentWeights", RnnErrorKind.InvalidData,
            $"The file has no recurrent weights under names this module knows. Its tensors{(sd.Count > 20 ? $" (the first 20 of {sd.Count})" : "")}: " +
            $"{(keys.Count == 0 ? "none" : string.Join(", ", keys))}. {needs}. Name the file's own keys with {Suggestion(sd, leaky)}, and give -Nonlinearity " +
            "(a file does not record it); Get-RnnFileContent lists the keys.");
    }

    /// <summary>
    /// A -ParameterMap for the file, guessed from its shapes: a square tensor as the recurrent weights, one with as
    /// many rows as the input weights, and the biases beside them; a generic one when nothing fits.
    /// </summary>
    private static string Suggestion(IReadOnlyDictionary<string, Parameter> sd, bool leaky)
    {
        string Key(string name) => leaky ? name : name + "_l0";
        var square = sd.FirstOrDefault(kv => kv.Value.Shape.Length == 2 && kv.Value.Rows == kv.Value.Columns && kv.Value.Rows > 1);
        var entries = new List<string>();
        if (square.Key is not null)
        {
            long h = square.Value.Rows;
            var input = sd.FirstOrDefault(kv => kv.Key != square.Key && kv.Value.Shape.Length == 2 && kv.Value.Rows == h && kv.Value.Columns != h);
            if (input.Key is not null) entries.Add($"{Key("weight_ih")} = '{input.Key}'");
            entries.Add($"{Key("weight_hh")} = '{square.Key}'");
            foreach (var (weight, bias) in new[] { (input.Key, leaky ? "bias" : "bias_ih_l0"), (square.Key, leaky ? "bias" : "bias_hh_l0") })
                if (weight is not null && weight.EndsWith("weight", StringComparison.Ordinal) && sd.ContainsKey(weight[..^6] + "bias")
                    && !entries.Any(e => e.StartsWith(bias + " ", StringComparison.Ordinal)))
                    entries.Add($"{bias} = '{weight[..^6]}bias'");
        }
        return entries.Count >= 2 ? $"-ParameterMap @{{ {string.Join("; ", entries)} }}"
            : leaky ? "-ParameterMap @{ weight_hh = '<recurrent [H, H]>'; weight_ih = '<input [H, I]>'; bias = '<[H]>' }"
            : "-ParameterMap @{ weight_ih_l0 = '<input [H, I]>'; weight_hh_l0 = '<recurrent [H, H]>'; bias_ih_l0 = '<[H]>' }";
    }

    private static string Article(Architecture a) => a switch { Architecture.Rnn or Architecture.Lstm => $"an {a}", _ => $"a {a}" };   // "an Rnn", "an Lstm"; "a Gru", "a LeakyRnn"

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
        if (alpha is not null && architecture != Architecture.LeakyRnn)
            throw new RnnException("AlphaNotApplicable", RnnErrorKind.InvalidArgument,
                $"-Alpha is the step of a leaky rate network; {Article(architecture)} has none. Leave it out, or give -Architecture LeakyRnn.");
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

    private static RnnException NotYet(string what) =>
        new("ArchitectureNotSupported", RnnErrorKind.NotImplemented,
            $"{what} models are not supported; this version analyses nn.RNN (Elman), nn.GRU, nn.LSTM, leaky rate (LeakyRnn) networks and TorchScript cells.");

    private static string ResolvePrefix(IReadOnlyDictionary<string, Parameter> sd, string? prefix, Architecture? architecture)
    {
        var found = sd.Keys.Where(k => k.EndsWith(FirstKey, StringComparison.Ordinal))
            .Select(k => k[..^FirstKey.Length]).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (prefix is not null)
        {
            string p = Dotted(prefix);
            if (found.Contains(p)) return p;
            if (found.Count == 0) throw NoWeights(sd, architecture);
            throw new RnnException("PrefixNotFound", RnnErrorKind.InvalidArgument,
                $"No key '{p}{FirstKey}' in the file. Prefixes that hold RNN weights: {Describe(found)}.");
        }
        return found.Count switch
        {
            1 => found[0],
            0 => throw NoWeights(sd, architecture),
            _ => throw new RnnException("AmbiguousPrefix", RnnErrorKind.InvalidArgument,
                $"The file holds several RNNs ({Describe(found)}); choose one with -Prefix."),
        };
    }

    private static string Describe(IEnumerable<string> prefixes) =>
        string.Join(", ", prefixes.Select(p => p.Length == 0 ? "(none)" : "'" + p.TrimEnd('.') + "'").DefaultIfEmpty("none"));

    /// <summary>How a key is named in messages: with the -ParameterMap entry it came from, if any.</summary>
    private static string Label(IReadOnlyDictionary<string, Parameter> sd, string prefix, string key) =>
        sd is ParameterMap map && map.Origin(key) is { } origin ? $"'{key}' (-ParameterMap {key} = {origin})" : $"'{prefix}{key}'";

    private static Parameter Require(IReadOnlyDictionary<string, Parameter> sd, string prefix, string key) =>
        sd.TryGetValue(prefix + key, out var value) ? value
            : throw new RnnException("MissingParameter", RnnErrorKind.InvalidData,
                sd is ParameterMap ? $"-ParameterMap does not name '{key}', which this architecture needs." : $"The file lacks '{prefix}{key}'.");

    private static Parameter Expect(IReadOnlyDictionary<string, Parameter> sd, string prefix, string key, params long[] shape)
    {
        var value = Require(sd, prefix, key);
        if (!value.Shape.SequenceEqual(shape))
            throw Shape($"{Label(sd, prefix, key)} has shape [{string.Join(", ", value.Shape)}]; expected [{string.Join(", ", shape)}]" +
                (shape.Length == 2 && value.Shape.Length == 2 && value.Shape[0] == shape[1] && value.Shape[1] == shape[0] ? ": transposed?" : "."));
        if (shape.Any(d => d == 0))
            throw Shape($"{Label(sd, prefix, key)} has shape [{string.Join(", ", value.Shape)}]: a network with no units or no inputs has nothing to analyse.");
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

using System.Globalization;
using System.Text.RegularExpressions;

namespace RnnLinearization.Core;

/// <summary>
/// Names a file's own tensors with a module's parameter names (-ParameterMap): each name maps to a file key, a key
/// with a NumPy slice ('i2h.weight[:, 62:190]'), or several keys concatenated along columns (a 1-D tensor is a
/// column). The result is a state_dict under the module's names, which every loader rule then reads as usual; it
/// remembers where each entry came from, so errors name the map entry.
/// </summary>
public sealed class ParameterMap : IReadOnlyDictionary<string, Parameter>
{
    private readonly Dictionary<string, Parameter> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);

    /// <summary>The parameter names a map may give, per architecture (layers 0 to 9 of a stack; cells without _l).</summary>
    public static IReadOnlyList<string> Names(Architecture? architecture) => architecture switch
    {
        Architecture.LeakyRnn => new[] { "weight_hh", "weight_ih", "bias", "mask_hh", "sign" },
        _ => Enumerable.Range(0, 10).SelectMany(l => new[] { $"weight_ih_l{l}", $"weight_hh_l{l}", $"bias_ih_l{l}", $"bias_hh_l{l}" })
            .Concat(new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }).ToArray(),
    };

    /// <summary>Resolves <paramref name="map"/> (name to file keys) against the file's tensors.</summary>
    /// <param name="notes">Receives what was assumed (a bias the map does not name is zero).</param>
    public ParameterMap(IReadOnlyDictionary<string, Parameter> file, IReadOnlyDictionary<string, string[]> map, Architecture? architecture, List<string> notes)
    {
        var allowed = Names(architecture);
        foreach (var (name, sources) in map)
        {
            if (!allowed.Contains(name))
                throw Invalid($"-ParameterMap names '{name}', which is not a parameter of {(architecture is { } a ? $"a {a}" : "nn.RNN, nn.GRU or nn.LSTM")}; " +
                    $"its names are {string.Join(", ", allowed.Take(architecture == Architecture.LeakyRnn ? 5 : 8))}{(architecture == Architecture.LeakyRnn ? "" : ", ... (one set per layer _l0, _l1, ...)")}." +
                    (architecture is null && Names(Architecture.LeakyRnn).Contains(name) ? $" '{name}' is a leaky rate network's: give -Architecture LeakyRnn." : ""));
            if (sources.Length == 0) throw Invalid($"-ParameterMap {name} names no key.");
            var parts = sources.Select(s => Resolve(file, s, name)).ToList();
            // One 1-D tensor for a weight is its one column (an input weight of one input, 'w[:, 3]').
            _entries[name] = parts.Count > 1 || (name.StartsWith("weight", StringComparison.Ordinal) && parts[0].Shape.Length == 1)
                ? Columns(parts, name, sources) : parts[0];
            _origins[name] = string.Join(", ", sources.Select(s => $"'{s}'"));
            foreach (var s in sources)
            {
                Used.Add(KeyOf(s));
                _usedAs.TryAdd(KeyOf(s), name);
            }
        }
        // nn.RNN, GRU and LSTM add two biases per layer: when the map names any, every one it does not name is zero
        // (as if the file held it at zero); when it names none, the network has none.
        var layers = Enumerable.Range(0, 10).Where(l => _entries.ContainsKey($"weight_hh_l{l}")).Select(l => $"_l{l}")
            .Concat(_entries.ContainsKey("weight_hh") && architecture != Architecture.LeakyRnn ? new[] { "" } : Array.Empty<string>()).ToList();
        var biases = layers.SelectMany(l => new[] { "bias_ih" + l, "bias_hh" + l }).ToList();
        var named = biases.Where(_entries.ContainsKey).ToList();
        if (named.Count > 0)
            foreach (var missing in biases.Except(named))
            {
                long rows = _entries["weight_hh" + missing[7..]].Rows;
                _entries[missing] = new Parameter(new[] { rows }, new double[rows]);
                _origins[missing] = "zero, not named by -ParameterMap";
                notes.Add($"-ParameterMap: '{missing}' is not named, so it is zero.");
            }
        else if (biases.Count > 0) notes.Add("-ParameterMap names no bias: the network has none (zero).");
        if (architecture == Architecture.LeakyRnn && !_entries.ContainsKey("bias"))
            notes.Add("-ParameterMap: 'bias' is not named, so it is zero.");
        // A bias that sits beside a mapped weight in the file (input_layer.bias beside input_layer.weight) and is not
        // mapped is most likely forgotten: said as a warning, since the network then differs from the file's.
        foreach (var key in Used.ToList())
            if (key.EndsWith("weight", StringComparison.Ordinal) && key[..^6] + "bias" is var bias && file.ContainsKey(bias) && !Used.Contains(bias))
                Unmapped.Add((bias, architecture == Architecture.LeakyRnn ? "bias" : _usedAs[key].Replace("weight", "bias")));
    }

    private readonly Dictionary<string, string> _usedAs = new(StringComparer.Ordinal);

    /// <summary>Biases beside mapped weights in the file that the map does not name, with the name they would take.</summary>
    public List<(string Key, string Name)> Unmapped { get; } = new();

    /// <summary>The file keys the map used (not candidates for the readout).</summary>
    public HashSet<string> Used { get; } = new(StringComparer.Ordinal);

    /// <summary>Where an entry came from, for messages: "'J.weight'".</summary>
    public string? Origin(string name) => _origins.TryGetValue(name, out var o) ? o : null;

    private static RnnException Invalid(string message) => new("InvalidParameterMap", RnnErrorKind.InvalidArgument, message);

    private static readonly Regex Sliced = new(@"^(?<key>.+?)\[(?<slices>[^\[\]]*)\]$", RegexOptions.CultureInvariant);

    private static string KeyOf(string source) => Sliced.Match(source) is { Success: true } m ? m.Groups["key"].Value : source;

    /// <summary>A key, or a key with a NumPy slice of each dimension (start:stop, either end left out, negative from the end, or one index).</summary>
    private static Parameter Resolve(IReadOnlyDictionary<string, Parameter> file, string source, string name)
    {
        string key = KeyOf(source);
        if (source.Contains('[') && !Sliced.IsMatch(source))
            throw Invalid($"-ParameterMap {name} = '{source}' is neither a key nor a key with a slice ('w[:, 0:4]').");
        if (!file.TryGetValue(key, out var tensor))
        {
            var keys = file.Keys.Take(20).ToList();
            throw Invalid($"-ParameterMap {name} = '{source}': the file has no tensor '{key}'. Its tensors{(file.Count > 20 ? $" (the first 20 of {file.Count})" : "")}: " +
                $"{(keys.Count == 0 ? "none" : string.Join(", ", keys))}.");
        }
        if (key == source) return tensor;
        var slices = Sliced.Match(source).Groups["slices"].Value.Split(',', StringSplitOptions.TrimEntries);
        if (slices.Length != tensor.Shape.Length)
            throw Invalid($"-ParameterMap {name} = '{source}': '{key}' has {tensor.Shape.Length} dimension(s) [{string.Join(", ", tensor.Shape)}], and the slice gives {slices.Length}.");
        var ranges = slices.Select((s, d) => Range(s, tensor.Shape[d], source, name)).ToArray();
        var shape = ranges.Where(r => !r.Index).Select(r => r.Stop - r.Start).ToArray();
        var data = new double[shape.Aggregate(1L, (a, b) => a * b)];
        var strides = new long[tensor.Shape.Length];
        for (int d = strides.Length - 1; d >= 0; d--) strides[d] = d == strides.Length - 1 ? 1 : strides[d + 1] * tensor.Shape[d + 1];
        var source2 = tensor.Data;
        var index = ranges.Select(r => r.Start).ToArray();
        for (long i = 0; i < data.Length; i++)
        {
            long at = 0;
            for (int d = 0; d < index.Length; d++) at += index[d] * strides[d];
            data[i] = source2[at];
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < ranges[d].Stop) break;
                index[d] = ranges[d].Start;
            }
        }
        return new Parameter(shape, data);
    }

    private static (long Start, long Stop, bool Index) Range(string slice, long size, string source, string name)
    {
        long Number(string text) => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
            : throw Invalid($"-ParameterMap {name} = '{source}': '{slice}' is not a slice (start:stop, either left out, or one index).");
        // As NumPy: a slice's ends are clamped to the dimension; an index outside it is an error.
        long Bound(string text, long fallback) => text.Length == 0 ? fallback : Number(text) is var v ? Math.Clamp(v < 0 ? v + size : v, 0, size) : 0;
        var ends = slice.Split(':');
        if (ends.Length == 1)
        {
            long i = ends[0].Trim().Length == 0 ? size : Number(ends[0].Trim());
            if (i < 0) i += size;
            if (i < 0 || i >= size)
                throw Invalid($"-ParameterMap {name} = '{source}': index {slice} is outside a dimension of {size}.");
            return (i, i + 1, true);
        }
        if (ends.Length > 2) throw Invalid($"-ParameterMap {name} = '{source}': slices with a step ('{slice}') are not supported.");
        // Unlike NumPy, an end past the dimension is an error: it is a typo more often than a wish.
        if (ends.Any(e => e.Trim().Length > 0 && Math.Abs(Number(e.Trim())) > size))
            throw Invalid($"-ParameterMap {name} = '{source}': the slice {slice} runs past a dimension of {size}.");
        long start = Bound(ends[0].Trim(), 0), stop = Bound(ends[1].Trim(), size);
        if (stop <= start) throw Invalid($"-ParameterMap {name} = '{source}': the slice {slice} of a dimension of {size} is empty.");
        return (start, stop, false);
    }

    /// <summary>Tensors side by side, as numpy.concatenate(axis=1); a 1-D tensor is one column.</summary>
    private static Parameter Columns(List<Parameter> parts, string name, string[] sources)
    {
        var matrices = parts.Select((p, k) => p.Shape.Length switch
        {
            1 => (Rows: p.Shape[0], Columns: 1L, p.Data),
            2 => (Rows: p.Shape[0], Columns: p.Shape[1], p.Data),
            _ => throw Invalid($"-ParameterMap {name}: '{sources[k]}' has {p.Shape.Length} dimensions; only 1-D (a column) and 2-D tensors are joined."),
        }).ToList();
        long rows = matrices[0].Rows;
        if (matrices.Any(m => m.Rows != rows))
            throw Invalid($"-ParameterMap {name}: the keys joined along columns must have the same rows; they have {string.Join(", ", matrices.Select((m, k) => $"'{sources[k]}' {m.Rows}"))}.");
        long columns = matrices.Sum(m => m.Columns);
        var data = new double[rows * columns];
        long offset = 0;
        foreach (var m in matrices)
        {
            for (long r = 0; r < rows; r++)
                Array.Copy(m.Data, r * m.Columns, data, r * columns + offset, m.Columns);
            offset += m.Columns;
        }
        return new Parameter(new[] { rows, columns }, data);
    }

    public Parameter this[string key] => _entries[key];
    public IEnumerable<string> Keys => _entries.Keys;
    public IEnumerable<Parameter> Values => _entries.Values;
    public int Count => _entries.Count;
    public bool ContainsKey(string key) => _entries.ContainsKey(key);
    public bool TryGetValue(string key, out Parameter value) => _entries.TryGetValue(key, out value!);
    public IEnumerator<KeyValuePair<string, Parameter>> GetEnumerator() => _entries.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

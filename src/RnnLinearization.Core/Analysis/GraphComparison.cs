namespace RnnLinearization.Core;

/// <summary>One settled run of a fixed-point graph as compared: the point left, its number of unstable modes, the stable point reached and its readout.</summary>
public sealed record GraphLink(long From, int FromIndex, long To, double[]? ToOutput);

/// <summary>
/// Whether two fixed-point graphs have the same topology: as many saddles of each index, and a one-to-one matching of
/// their stable points under which the index-1 saddles, each with the set of stable points its two runs reach, are the
/// same. Saddles of higher index are counted, not matched: which points their runs reach depends on the directions
/// taken within an unstable subspace of two or more dimensions, while an index-1 saddle's unstable manifold is one
/// curve. Matching holds the pairs (reference, difference); Isomorphic is null when the search was cut off.
/// </summary>
public sealed record GraphMatch(bool? Isomorphic, string MatchedBy, (long Reference, long Difference)[] Matching);

public static class GraphComparison
{
    /// <summary>Assignments tried before the search gives up (Isomorphic null): ample for the few dozen memories of trained networks.</summary>
    private const int SearchLimit = 1_000_000;

    private sealed record Graph(long[] Stable, (int Index, long[] Reach)[] Saddles, Dictionary<long, double[]?> Outputs);

    private static Graph Build(IReadOnlyList<GraphLink> links)
    {
        var outputs = new Dictionary<long, double[]?>();
        foreach (var l in links) outputs[l.To] = l.ToOutput;
        var saddles = links.GroupBy(l => l.From)
            .Select(g => (g.First().FromIndex, g.First().FromIndex == 1 ? g.Select(l => l.To).Distinct().OrderBy(t => t).ToArray() : Array.Empty<long>())).ToArray();
        return new Graph(outputs.Keys.OrderBy(k => k).ToArray(), saddles, outputs);
    }

    public static GraphMatch Compare(IReadOnlyList<GraphLink> reference, IReadOnlyList<GraphLink> difference)
    {
        var (a, b) = (Build(reference), Build(difference));
        static string Indices(Graph g) => string.Join(",", g.Saddles.Select(x => x.Index).OrderBy(i => i));
        if (Indices(a) != Indices(b))
            return new GraphMatch(false, "Counts", Array.Empty<(long, long)>());
        // As many saddles of each index, but not as many stable points reached from them: no matching carries one onto the other.
        if (a.Stable.Length != b.Stable.Length)
            return new GraphMatch(false, "None", Array.Empty<(long, long)>());
        // First the matching a scientist would make: each memory to the one with the nearest readout.
        if (ByOutput(a, b) is { } byOutput && Same(a, b, byOutput))
            return new GraphMatch(true, "Output", Pairs(byOutput));
        // Then any matching, by backtracking over stable points with the same profile (the indices of their saddles).
        var profileA = a.Stable.ToDictionary(s => s, s => Profile(a, s));
        var profileB = b.Stable.ToDictionary(s => s, s => Profile(b, s));
        var map = new Dictionary<long, long>();
        var used = new HashSet<long>();
        int tried = 0;
        bool? found = Search(0);
        return new GraphMatch(found, found == true ? "Structure" : found == false ? "None" : "SearchLimit",
            found == true ? Pairs(map) : Array.Empty<(long, long)>());

        bool? Search(int i)
        {
            if (i == a.Stable.Length) return Same(a, b, map);
            foreach (var candidate in b.Stable)
            {
                if (used.Contains(candidate) || profileA[a.Stable[i]] != profileB[candidate]) continue;
                if (++tried > SearchLimit) return null;
                map[a.Stable[i]] = candidate;
                used.Add(candidate);
                if (Search(i + 1) is var result && result != false) return result;   // found, or cut off
                used.Remove(candidate);
                map.Remove(a.Stable[i]);
            }
            return false;
        }
    }

    private static string Profile(Graph g, long stable) =>
        string.Join(",", g.Saddles.Where(s => s.Reach.Contains(stable)).Select(s => s.Index).OrderBy(x => x));

    private static Dictionary<long, long>? ByOutput(Graph a, Graph b)
    {
        if (a.Outputs.Values.Concat(b.Outputs.Values).Any(o => o is null)) return null;
        var map = a.Stable.ToDictionary(s => s, s => b.Stable.MinBy(t => Distance(a.Outputs[s]!, b.Outputs[t]!)));
        return map.Values.Distinct().Count() == map.Count ? map : null;
    }

    private static double Distance(double[] x, double[] y) =>
        x.Length != y.Length ? double.PositiveInfinity : VectorMath.Distance(x, y);

    /// <summary>Whether the matching carries a's saddles (index and reach) onto b's, as multisets.</summary>
    private static bool Same(Graph a, Graph b, IReadOnlyDictionary<long, long> map)
    {
        static string Key(int index, IEnumerable<long> reach) => index + ":" + string.Join(",", reach.OrderBy(x => x));
        var left = a.Saddles.Select(s => Key(s.Index, s.Reach.Select(t => map[t]))).OrderBy(k => k, StringComparer.Ordinal);
        var right = b.Saddles.Select(s => Key(s.Index, s.Reach)).OrderBy(k => k, StringComparer.Ordinal);
        return left.SequenceEqual(right);
    }

    private static (long, long)[] Pairs(IReadOnlyDictionary<long, long> map) => map.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)).ToArray();
}

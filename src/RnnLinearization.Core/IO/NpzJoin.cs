using System.Globalization;
using System.IO.Compression;

namespace RnnLinearization.Core;

/// <summary>How <see cref="NpzJoin.Join"/> ordered the parts.</summary>
public enum JoinOrder
{
    /// <summary>By SourceRow: the rows' numbers in the state file the shards were read from (ranges that do not overlap).</summary>
    SourceRow,
    /// <summary>By first Index: parts whose Index ranges do not overlap (shards of one trajectory).</summary>
    Index,
    /// <summary>As given: parts without either, or whose ranges overlap (one part per checkpoint or per state file).</summary>
    Given,
}

/// <summary>
/// The order used, and, when parts that carry SourceRow hold the same rows, the first two that do (their files and
/// rows); with a tolerance for unique states, how many rows there were and how many were kept.
/// </summary>
public sealed record JoinReport(JoinOrder Order, string? Overlap, long Rows = 0, long Kept = 0);

/// <summary>
/// Joins .npz parts (Export-RnnResult's, one per task of an array job) into one .npz: each array concatenated along its
/// first dimension, streamed entry by entry, so the result may be larger than memory. Parts ordered as
/// <see cref="JoinOrder"/> says. Parts whose SourceRow ranges overlap are not shards of one file (one part per state
/// file or checkpoint, or a part written twice): they go by Index or as given, and the report names them, so that a
/// caller can say so.
/// </summary>
public static class NpzJoin
{
    /// <param name="uniqueTolerance">
    /// When given, rows whose State is within it of a kept row's in every coordinate (the rule Find-RnnFixedPoint merges
    /// points by) are dropped: the row with the lowest Q of each group is kept (the first, without Q), rows stay in
    /// order, and a StartCount column becomes each kept row's sum.
    /// </param>
    public static JoinReport Join(IReadOnlyList<string> parts, string destination, string? noClobberId = null, double? uniqueTolerance = null)
    {
        if (parts.Count == 0) throw new RnnException("NoParts", RnnErrorKind.InvalidArgument, "No parts to join.");
        var zips = new List<(string Path, ZipArchive Zip, Dictionary<string, Npy.Info> Arrays)>();
        try
        {
            foreach (var path in parts)
            {
                ZipArchive zip;
                try { zip = Npy.OpenNpz(path); }
                catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    throw Bad(path, $"it cannot be read as an .npz ({ex.Message}).");
                }
                zips.Add((path, zip, zip.Entries.Where(e => e.Name.EndsWith(".npy", StringComparison.Ordinal))
                    .ToDictionary(e => e.Name[..^4], e => Header(e, path))));
            }
            var names = zips[0].Arrays.Keys.ToList();
            foreach (var (path, _, arrays) in zips.Skip(1))
            {
                if (!arrays.Keys.ToHashSet().SetEquals(names))
                    throw new RnnException("PartsDiffer", RnnErrorKind.InvalidData,
                        $"'{path}' holds the arrays {string.Join(", ", arrays.Keys)}, '{zips[0].Path}' holds {string.Join(", ", names)}: parts of one run hold the same arrays.");
                foreach (var name in names)
                {
                    Npy.Info a = zips[0].Arrays[name], b = arrays[name];
                    bool sameKind = a.Descr == b.Descr || (a.Descr.StartsWith("<U") && b.Descr.StartsWith("<U"));
                    if (!sameKind || !a.Shape.Skip(1).SequenceEqual(b.Shape.Skip(1)))
                        throw new RnnException("PartsDiffer", RnnErrorKind.InvalidData,
                            $"'{name}' is {b.Descr} [{string.Join(", ", b.Shape)}] in '{path}' but {a.Descr} [{string.Join(", ", a.Shape)}] in '{zips[0].Path}'.");
                }
            }
            var (ordered, order, overlap) = Order(zips.Select(z => (z.Path, z.Zip)).ToList(), names);
            var (keep, counts, firstStarts) = uniqueTolerance is { } tolerance ? Unique(ordered, names, tolerance) : (null, null, null);
            long[]? Merged(string name) => name switch { "StartCount" => counts, "FirstStart" => firstStarts, _ => null };
            AtomicFile.Write(destination, file =>
            {
                using var output = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
                foreach (var name in names)
                {
                    var arrays = ordered.Select(z => zips.First(x => x.Zip == z.Zip).Arrays[name]).ToList();
                    var first = arrays[0];
                    long rows = keep?.Count(k => k) ?? arrays.Sum(a => a.Shape[0]);
                    string descr = first.Descr.StartsWith("<U") ? $"<U{arrays.Max(a => a.ItemSize / 4)}" : first.Descr;
                    int itemSize = descr.StartsWith("<U") ? 4 * int.Parse(descr[2..], CultureInfo.InvariantCulture) : first.ItemSize;
                    using var entry = output.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                    Npy.Header(entry, descr, new[] { rows }.Concat(first.Shape.Skip(1)).ToArray());
                    if (keep is not null && first.Descr == "<i8" && first.Shape.Length == 1 && (name == "Index" || Merged(name) is not null))
                    {
                        // Merged rows: StartCount sums every start that found the point, in whichever part; FirstStart is
                        // the first start of the group (not a probe's -1 where a start found it too); Index numbers the kept
                        // rows afresh, as the parts' own numbers repeat.
                        var merged = Merged(name);
                        for (int r = 0, kept = 0; r < keep.Length; r++)
                            if (keep[r]) entry.Write(BitConverter.GetBytes(merged is null ? kept++ : merged[r]));
                        continue;
                    }
                    long offset = 0;
                    for (int p = 0; p < ordered.Count; p++)
                    {
                        var part = ordered[p].Zip.GetEntry(name + ".npy")!;
                        using var input = part.Open();
                        Npy.ReadAnyHeader(input, part.Length, ordered[p].Path, Bad);   // to the data
                        long rowItems = arrays[p].Shape.Skip(1).Aggregate(1L, (x, y) => x * y), partRows = arrays[p].Shape[0];
                        for (long r = 0; r < partRows; r += keep is null ? partRows : 1)
                        {
                            // Without -Unique a part is one block; with it, row by row, dropped rows read past.
                            long block = keep is null ? partRows : 1;
                            if (keep is not null && !keep[offset + r]) { Copy(input, Stream.Null, rowItems * arrays[p].ItemSize, ordered[p].Path); continue; }
                            if (arrays[p].ItemSize == itemSize) Copy(input, entry, block * rowItems * itemSize, ordered[p].Path);
                            else Widen(input, entry, block * rowItems, arrays[p].ItemSize, itemSize, ordered[p].Path);
                        }
                        offset += partRows;
                    }
                }
            }, noClobberId);
            return new JoinReport(order, overlap, keep?.LongLength ?? 0, keep?.LongCount(k => k) ?? 0);
        }
        finally
        {
            foreach (var z in zips) z.Zip.Dispose();
        }
    }

    /// <summary>
    /// Which rows of the joined parts to keep so that no two kept States are within the tolerance (the lowest Q of each
    /// group first), each kept row's StartCount summed over its group, and its group's first FirstStart that is a start
    /// (not a probe's -1); null without those columns.
    /// </summary>
    private static (bool[] Keep, long[]? Counts, long[]? FirstStarts) Unique(List<(string Path, ZipArchive Zip)> parts, List<string> names, double tolerance)
    {
        if (!(tolerance > 0) || double.IsInfinity(tolerance))
            throw new RnnException("InvalidUniqueTolerance", RnnErrorKind.InvalidArgument, $"-UniqueTolerance must be finite and above 0, not {tolerance}.");
        // Only fixed points are one thing wherever their States agree: edges, spectra and states along trajectories are not.
        if (!names.Contains("State") || !names.Contains("Q"))
            throw new RnnException("UniqueNeedsFixedPoints", RnnErrorKind.InvalidArgument,
                "-Unique merges fixed points (Find-RnnFixedPoint's results, with State and Q): these parts hold other results, whose rows are not the same thing where their States agree.");
        var states = new List<double[]>();
        var q = new List<double>();
        var startCounts = new List<long>();
        var firstStart = new List<long>();
        bool hasQ = names.Contains("Q"), hasCounts = names.Contains("StartCount"), hasFirst = names.Contains("FirstStart");
        foreach (var (path, zip) in parts)
        {
            var rows = Column(zip, path, "State", 2);
            states.AddRange(rows);
            if (hasQ) q.AddRange(Column(zip, path, "Q", 1).Select(r => r[0]));
            if (hasCounts) startCounts.AddRange(Column(zip, path, "StartCount", 1).Select(r => (long)r[0]));
            if (hasFirst) firstStart.AddRange(Column(zip, path, "FirstStart", 1).Select(r => (long)r[0]));
        }
        int n = states.Count;
        var keep = new bool[n];
        var counts = hasCounts ? new long[n] : null;
        var first = hasFirst ? new long[n] : null;
        var kept = new List<int>();
        foreach (int i in Enumerable.Range(0, n).OrderBy(i => hasQ ? q[i] : 0))   // stable: ties keep the order given
        {
            int match = kept.FindIndex(k => FixedPoints.Within(states[k], states[i], tolerance));
            int into = match < 0 ? i : kept[match];
            if (match < 0) { kept.Add(i); keep[i] = true; }
            if (counts is not null) counts[into] = (match < 0 ? 0 : counts[into]) + startCounts[i];
            if (first is not null)
                first[into] = match < 0 ? firstStart[i] : firstStart[i] < 0 ? first[into] : first[into] < 0 ? firstStart[i] : Math.Min(first[into], firstStart[i]);
        }
        return (keep, counts, first);
    }

    /// <summary>A float64 or integer array of 1 or 2 dimensions as rows (one value per row for 1-D).</summary>
    private static List<double[]> Column(ZipArchive zip, string path, string name, int dimensions)
    {
        var entry = zip.GetEntry(name + ".npy")!;
        using var stream = entry.Open();
        var header = Npy.ReadHeader(stream, entry.Length, $"{path} ({name})", Bad, integers: true);
        if (header.Shape.Length != dimensions)
            throw Bad(path, $"'{name}' has {header.Shape.Length} dimensions, not {dimensions}.");
        var info = dimensions == 1 ? header with { Shape = new[] { header.Shape[0], 1L } } : header;
        var values = Npy.ReadRows(stream, info, 0, info.Shape[0], path, Bad);
        int columns = (int)info.Columns;
        return Enumerable.Range(0, (int)info.Shape[0]).Select(r => values.AsSpan(r * columns, columns).ToArray()).ToList();
    }

    /// <summary>The parts in the order <see cref="JoinOrder"/> describes, which order that was, and the first overlap of SourceRow ranges.</summary>
    private static (List<(string Path, ZipArchive Zip)> Parts, JoinOrder Order, string? Overlap) Order(List<(string Path, ZipArchive Zip)> parts, List<string> names)
    {
        string? overlap = null;
        if (names.Contains("SourceRow"))
        {
            var rows = Sorted("SourceRow");
            overlap = FirstOverlap(rows);
            if (overlap is null) return (rows.Select(r => r.Part).ToList(), JoinOrder.SourceRow, null);
        }
        if (!names.Contains("Index")) return (parts, JoinOrder.Given, overlap);
        var sorted = Sorted("Index");
        if (sorted.Any(r => r.Range is null) || FirstOverlap(sorted) is not null) return (parts, JoinOrder.Given, overlap);
        return (sorted.Select(r => r.Part).ToList(), JoinOrder.Index, overlap);

        List<((string Path, ZipArchive Zip) Part, (long Min, long Max)? Range)> Sorted(string name) =>
            parts.Select(p => (Part: p, Range: IndexRange(p.Zip, p.Path, name))).OrderBy(r => r.Range?.Min ?? long.MinValue).ToList();
        static string? FirstOverlap(List<((string Path, ZipArchive Zip) Part, (long Min, long Max)? Range)> sorted)
        {
            var ranged = sorted.Where(r => r.Range is not null).ToList();   // an empty part adds no rows
            for (int i = 1; i < ranged.Count; i++)
                if (ranged[i].Range!.Value.Min <= ranged[i - 1].Range!.Value.Max)
                    return $"'{ranged[i - 1].Part.Path}' holds rows {ranged[i - 1].Range!.Value.Min}-{ranged[i - 1].Range!.Value.Max} and " +
                        $"'{ranged[i].Part.Path}' rows {ranged[i].Range!.Value.Min}-{ranged[i].Range!.Value.Max}";
            return null;
        }
    }

    /// <summary>The smallest and largest value of the integer array <paramref name="name"/>; null when it is empty or not one-dimensional.</summary>
    private static (long Min, long Max)? IndexRange(ZipArchive zip, string path, string name)
    {
        var entry = zip.GetEntry(name + ".npy")!;
        using var stream = entry.Open();
        var header = Npy.ReadHeader(stream, entry.Length, $"{path} ({name})", Bad, integers: true);
        if (header.Shape.Length != 1 || header.Shape[0] == 0) return null;
        var values = Npy.ReadRows(stream, header with { Shape = new[] { header.Shape[0], 1L } }, 0, header.Shape[0], path, Bad);
        return ((long)values.Min(), (long)values.Max());
    }

    private static Npy.Info Header(ZipArchiveEntry entry, string path)
    {
        using var stream = entry.Open();
        var info = Npy.ReadAnyHeader(stream, entry.Length, $"{path} ({entry.Name})", Bad);
        if (info.ItemSize == 0 || info.Shape.Length == 0)
            throw Bad(path, $"'{entry.Name}' is not an array Export-RnnResult writes ({info.Descr} [{string.Join(", ", info.Shape)}]).");
        return info;
    }

    private static void Copy(Stream from, Stream to, long bytes, string path)
    {
        var buffer = new byte[1 << 16];
        while (bytes > 0)
        {
            int n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, bytes));
            if (n == 0) throw Bad(path, "an array is shorter than its header says.");
            to.Write(buffer, 0, n);
            bytes -= n;
        }
    }

    /// <summary>Fixed-width unicode (text such as Kind) of a narrower part, padded with zeros to the joined width.</summary>
    private static void Widen(Stream from, Stream to, long items, int size, int width, string path)
    {
        var item = new byte[size];
        var pad = new byte[width - size];
        for (long i = 0; i < items; i++)
        {
            if (from.ReadAtLeast(item, size, throwOnEndOfStream: false) < size) throw Bad(path, "an array is shorter than its header says.");
            to.Write(item);
            to.Write(pad);
        }
    }

    private static RnnException Bad(string path, string why) => new("UnreadablePart", RnnErrorKind.InvalidData, $"'{path}': {why}");
}

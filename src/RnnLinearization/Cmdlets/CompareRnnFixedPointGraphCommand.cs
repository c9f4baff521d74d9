using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Compares two fixed-point graphs (Get-RnnFixedPointGraph): counts, and whether their topologies are the same.</summary>
[Cmdlet(VerbsData.Compare, "RnnFixedPointGraph")]
[OutputType(typeof(RnnFixedPointGraphComparison))]
public sealed class CompareRnnFixedPointGraphCommand : RnnCmdlet
{
    private readonly List<RnnFixedPointEdge> _difference = new();

    /// <summary>Empty or null for a graph without saddles (its network has stable points only).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [AllowNull, AllowEmptyCollection]
    public RnnFixedPointEdge[] ReferenceEdge { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowNull, AllowEmptyCollection]
    public RnnFixedPointEdge[] DifferenceEdge { get; set; } = null!;

    protected override void ProcessRecord() => _difference.AddRange((DifferenceEdge ?? Array.Empty<RnnFixedPointEdge>()).Where(e => e is not null));

    protected override void EndProcessing()
    {
        ReferenceEdge = (ReferenceEdge ?? Array.Empty<RnnFixedPointEdge>()).Where(e => e is not null).ToArray();
        static GraphLink[] Links(IEnumerable<RnnFixedPointEdge> edges) => edges.Where(e => e.Outcome == EdgeOutcome.Settled && e.To is not null)
            .Select(e => new GraphLink(e.From, e.FromUnstableCount, e.To!.Value, e.ToOutput)).ToArray();
        var (a, b) = (Links(ReferenceEdge), Links(_difference));
        int stableA = ReferenceEdge.Select(e => e.StablePoints).DefaultIfEmpty(0).Max(), stableB = _difference.Select(e => e.StablePoints).DefaultIfEmpty(0).Max();
        int unsettled = ReferenceEdge.Concat(_difference).Count(e => e.Outcome != EdgeOutcome.Settled);
        static string Saddles(IEnumerable<RnnFixedPointEdge> edges) => string.Join(", ", edges.GroupBy(e => e.From).Select(g => g.First().FromUnstableCount)
            .GroupBy(i => i).OrderBy(g => g.Key).Select(g => $"{g.Count()} of index {g.Key}"));
        // Counts decide first, whatever became of the runs: the stable points piped, and the saddles of each index.
        // Past them, undecided where the graphs are incomplete: a run that reached no known stable point, or no saddle to leave.
        var match = ReferenceEdge.Length == 0 || _difference.Count == 0 ? new GraphMatch(null, "NoEdges", Array.Empty<(long, long)>())
            : stableA != stableB || Saddles(ReferenceEdge) != Saddles(_difference) ? new GraphMatch(false, "Counts", Array.Empty<(long, long)>())
            : unsettled > 0 ? new GraphMatch(null, "Unsettled", Array.Empty<(long, long)>())
            : GraphComparison.Compare(a, b);
        if (match.MatchedBy == "NoEdges")
            WriteWarning("A graph without edges (a network without saddles, or nothing piped) has no topology to compare: compare the fixed points' counts instead.");
        if (match.MatchedBy == "Unsettled")
            WriteWarning($"{unsettled} run(s) reached no piped stable point, so the graphs are incomplete and Isomorphic is left empty: pipe all of Find-RnnFixedPoint's points to Get-RnnFixedPointGraph, or raise -MaxSteps.");
        if (match.MatchedBy == "SearchLimit")
            WriteWarning("The search for a matching of the stable points was cut off: Isomorphic is left empty.");
        WriteObject(new RnnFixedPointGraphComparison
        {
            Isomorphic = match.Isomorphic,
            MatchedBy = match.MatchedBy,
            ReferenceStable = match.Matching.Select(p => p.Reference).ToArray(),
            DifferenceStable = match.Matching.Select(p => p.Difference).ToArray(),
            ReferenceStableCount = stableA,
            DifferenceStableCount = stableB,
            ReferenceSaddles = Saddles(ReferenceEdge),
            DifferenceSaddles = Saddles(_difference),
            ReferenceLinks = a.Select(l => (l.From, l.To)).Distinct().Count(),
            DifferenceLinks = b.Select(l => (l.From, l.To)).Distinct().Count(),
            ReferenceUnsettled = ReferenceEdge.Count(e => e.Outcome != EdgeOutcome.Settled),
            DifferenceUnsettled = _difference.Count(e => e.Outcome != EdgeOutcome.Settled),
        });
    }
}

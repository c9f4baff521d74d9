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
        var match = GraphComparison.Compare(a, b);
        static string Saddles(IEnumerable<RnnFixedPointEdge> edges) => string.Join(", ", edges.GroupBy(e => e.From).Select(g => g.First().FromUnstableCount)
            .GroupBy(i => i).OrderBy(g => g.Key).Select(g => $"{g.Count()} of index {g.Key}"));
        if (match.Isomorphic is null)
            WriteWarning("The search for a matching of the stable points was cut off: Isomorphic is left empty.");
        WriteObject(new RnnFixedPointGraphComparison
        {
            Isomorphic = match.Isomorphic,
            MatchedBy = match.MatchedBy,
            ReferenceStable = match.Matching.Select(p => p.Reference).ToArray(),
            DifferenceStable = match.Matching.Select(p => p.Difference).ToArray(),
            ReferenceStableCount = a.Select(l => l.To).Distinct().Count(),
            DifferenceStableCount = b.Select(l => l.To).Distinct().Count(),
            ReferenceSaddles = Saddles(ReferenceEdge),
            DifferenceSaddles = Saddles(_difference),
            ReferenceLinks = a.Select(l => (l.From, l.To)).Distinct().Count(),
            DifferenceLinks = b.Select(l => (l.From, l.To)).Distinct().Count(),
            ReferenceUnsettled = ReferenceEdge.Count(e => e.Outcome != EdgeOutcome.Settled),
            DifferenceUnsettled = _difference.Count(e => e.Outcome != EdgeOutcome.Settled),
        });
    }
}

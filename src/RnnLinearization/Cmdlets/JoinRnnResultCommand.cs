using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Joins the .npz parts that the tasks of an array job wrote with Export-RnnResult into one .npz, equal to the
/// one-process result: arrays concatenated, streamed, parts ordered by the state-file rows they hold (SourceRow), by
/// their Index ranges, or as given (see <see cref="JoinOrder"/>); parts that hold the same rows are joined with a
/// warning that names them. A wildcard's parts come in natural order (part-2 before part-10).
/// </summary>
[Cmdlet(VerbsCommon.Join, "RnnResult", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class JoinRnnResultCommand : RnnCmdlet
{
    private readonly List<string> _parts = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string[] Path { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    public string Destination { get; set; } = null!;

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Drops rows whose State is within -UniqueTolerance of a kept row's: fixed points found by several shards, once each.</summary>
    [Parameter]
    public SwitchParameter Unique { get; set; }

    [Parameter]
    public double UniqueTolerance { get; set; } = new FixedPointOptions().UniqueTolerance;   // the rule Find-RnnFixedPoint merges by

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            try { _parts.AddRange(GetResolvedProviderPathFromPSPath(p, out _).Order(NaturalOrder.Instance)); }
            catch (ItemNotFoundException ex)
            {
                WriteError(Record(new RnnException("PartNotFound", RnnErrorKind.ObjectNotFound, $"No part at '{p}'.", ex), p));
            }
        }
    }

    protected override void EndProcessing()
    {
        var destination = FileSystemPath(Destination);
        if (!System.IO.Path.GetExtension(destination).Equals(".npz", StringComparison.OrdinalIgnoreCase))
            ThrowTerminatingError(Record(new RnnException("ResultExtension", RnnErrorKind.InvalidArgument,
                $"Join-RnnResult writes NumPy's .npz; name the file .npz, not '{System.IO.Path.GetFileName(destination)}'."), destination));
        if (_parts.Any(p => string.Equals(System.IO.Path.GetFullPath(p), System.IO.Path.GetFullPath(destination), StringComparison.Ordinal)))
            ThrowTerminatingError(Record(new RnnException("DestinationIsPart", RnnErrorKind.InvalidArgument,
                $"'{destination}' is one of the parts; write the joined file elsewhere."), destination));
        if (NoClobber && File.Exists(destination))
            ThrowTerminatingError(Record(new RnnException("ResultFileExists", RnnErrorKind.WriteError, $"'{destination}' exists and -NoClobber was given."), destination));
        if (!ShouldProcess(destination, $"Join {_parts.Count} parts")) return;
        WriteVerbose($"Joining {_parts.Count} part(s) into {destination}.");
        var report = Terminating(() => NpzJoin.Join(_parts, destination, NoClobber ? "ResultFileExists" : null, Unique ? UniqueTolerance : null), destination);
        if (Unique) WriteVerbose($"-Unique kept {report.Kept} of {report.Rows} rows (States within {UniqueTolerance} in every coordinate are one).");
        // Parts that hold the same rows of their state files are not shards of one file: said, as the order used is.
        if (report.Overlap is not null)
            WriteWarning($"The parts hold the same state-file rows ({report.Overlap}), so they are not shards of one file: joined " +
                (report.Order == JoinOrder.Index ? "in the order of their Index ranges." : "in the order given.") +
                " Join each file's shards separately to keep its rows in order; a part written twice appears twice.");
        WriteVerbose(report.Order switch
        {
            JoinOrder.SourceRow => "Parts joined in the order of the state-file rows they hold (SourceRow).",
            JoinOrder.Index => "Parts joined in the order of their Index ranges, which do not overlap.",
            _ => "Parts joined in the order given: no SourceRow or Index ranges that do not overlap.",
        });
        if (PassThru) WriteObject(new FileInfo(destination));
    }
}

/// <summary>File names compared as people read them: runs of digits by their value, so part-2 comes before part-10.</summary>
internal sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return string.CompareOrdinal(x, y);
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int si = i, sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i])) i++;
                while (j < y.Length && char.IsAsciiDigit(y[j])) j++;
                var a = x.AsSpan(si, i - si).TrimStart('0');
                var b = y.AsSpan(sj, j - sj).TrimStart('0');
                int c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
                if (c != 0) return c;
                continue;
            }
            if (x[i] != y[j]) return x[i].CompareTo(y[j]);
            i++;
            j++;
        }
        int rest = (x.Length - i).CompareTo(y.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(x, y);
    }
}

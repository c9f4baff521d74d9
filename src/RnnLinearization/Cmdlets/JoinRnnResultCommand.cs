using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Joins the .npz parts that the tasks of an array job wrote with Export-RnnResult into one .npz, equal to the
/// one-process result: arrays concatenated, streamed, parts ordered by their Index ranges (or as given).
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

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            try { _parts.AddRange(GetResolvedProviderPathFromPSPath(p, out _).Order(StringComparer.Ordinal)); }
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
        Terminating(() => { NpzJoin.Join(_parts, destination); return 0; }, destination);
        if (PassThru) WriteObject(new FileInfo(destination));
    }
}

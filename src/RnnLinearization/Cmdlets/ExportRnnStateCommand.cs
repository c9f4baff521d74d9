using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Writes piped states (State, Input, Index by property name) to a file that Import-RnnState reads back exactly.</summary>
[Cmdlet(VerbsData.Export, "RnnState", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportRnnStateCommand : RnnCmdlet
{
    private readonly List<StateRecord> _records = new();

    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public double[] State { get; set; } = null!;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public double[]? Input { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long? Index { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => _records.Add(new StateRecord(State, Input, Index));

    protected override void EndProcessing()
    {
        var path = FileSystemPath(Path);
        if (NoClobber && File.Exists(path))
            ThrowTerminatingError(Record(new RnnException("StateFileExists", RnnErrorKind.WriteError, $"'{path}' exists and -NoClobber was given."), path));
        if (System.IO.Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase) && _records.Any(r => r.Input is not null))
            WriteWarning($"'{path}': a .npy file holds the states alone; their inputs and indices are not written (use .npz, .csv or .json to keep them).");
        if (!ShouldProcess(path, $"Write {_records.Count} states")) return;
        Terminating(() => { StateWriter.Write(path, _records, NoClobber ? "StateFileExists" : null); return 0; }, path);
        if (PassThru) WriteObject(new FileInfo(path));
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Writes a model as safetensors under PyTorch's state_dict names (load it with safetensors.torch.load_file).</summary>
[Cmdlet(VerbsData.Export, "RnnModel", SupportsShouldProcess = true)]
[OutputType(typeof(System.IO.FileInfo))]
public sealed class ExportRnnModelCommand : RnnCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ModelTransformation]
    public RnnModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = null!;

    /// <summary>Refuses to overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var path = FileSystemPath(Path);
        if (NoClobber && File.Exists(path))
            ThrowTerminatingError(Record(new RnnException("ModelFileExists", RnnErrorKind.WriteError,
                $"'{path}' exists and -NoClobber was given."), path));
        if (!ShouldProcess(path, "Export RNN model")) return;
        Terminating(() => { ModelWriter.Export(Model, path, NoClobber ? "ModelFileExists" : null); return 0; }, path);
        if (PassThru) WriteObject(new FileInfo(path));
    }
}

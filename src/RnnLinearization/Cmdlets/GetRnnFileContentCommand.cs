using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Lists what a model file holds (tensors, pickled modules, a checkpoint's other values) without building a model.</summary>
[Cmdlet(VerbsCommon.Get, "RnnFileContent")]
[OutputType(typeof(RnnFileEntry))]
public sealed class GetRnnFileContentCommand : RnnCmdlet
{
    /// <summary>A torch.save file (zip or legacy), a .safetensors file or a TorchScript archive.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = null!;

    /// <summary>Each file on its own: one that cannot be read is an error for that file, and the next one is read.</summary>
    protected override void ProcessRecord()
    {
        var path = FileSystemPath(Path);
        (List<RnnFileEntry> Entries, IReadOnlyList<string> Calls) content;
        try
        {
            content = Interruptible(() =>
            {
                using var file = ModelFile.Open(path, StopToken);
                var list = file.Entries.Select(e => new RnnFileEntry(file.Path, file.Format, e)).ToList();
                if (file.IsTorchScript)
                    list.Add(new RnnFileEntry(file.Path, file.Format, new FileEntry("(code)", "Value", Value: "TorchScript: loaded with -Architecture TorchScript, which runs its code")));
                return (list, file.Calls);
            });
        }
        catch (RnnException ex)
        {
            WriteError(Record(ex, path));
            return;
        }
        foreach (var call in content.Calls)
            WriteWarning($"'{path}' would call {call} when loaded in Python (torch.load); it was not called here.");
        WriteObject(content.Entries, enumerateCollection: true);
    }
}

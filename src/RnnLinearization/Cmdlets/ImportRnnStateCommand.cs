using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Reads states (one per row) from .csv, .npy, .npz or .json; Index is the file's index column, or the row number.</summary>
[Cmdlet(VerbsData.Import, "RnnState")]
[OutputType(typeof(RnnState))]
public sealed class ImportRnnStateCommand : RnnCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string[] Path { get; set; } = null!;

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            var path = FileSystemPath(p);
            IReadOnlyList<StateRecord> records;
            try { records = StateReader.Read(path); }
            catch (RnnException ex) { WriteError(Record(ex, path)); continue; }
            for (int i = 0; i < records.Count; i++)
                WriteObject(new RnnState { Index = records[i].Index ?? i, State = records[i].State, Input = records[i].Input, Path = path });
        }
    }
}

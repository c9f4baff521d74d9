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

    /// <summary>With -ShardCount: which contiguous slice of each file's rows to read (0-based).</summary>
    [Parameter]
    public int Shard { get; set; }

    /// <summary>How many slices each file's rows are cut into (sizes differing by at most one); 1 reads them all.</summary>
    [Parameter]
    public int ShardCount { get; set; } = 1;

    private Shard _shard;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _shard = Terminating(() => BoundShard(Shard, ShardCount), Shard);
    }

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            var path = FileSystemPath(p);
            IReadOnlyList<StateRecord> records;
            try { records = StateReader.Read(path, _shard); }
            catch (RnnException ex) { WriteError(Record(ex, path)); continue; }
            if (records.Count == 0) WriteVerbose($"'{path}': shard {Shard} of {ShardCount} holds no rows (the file has fewer rows than shards).");
            foreach (var r in records)
                WriteObject(new RnnState { Index = r.Index ?? r.Row, State = r.State, Input = r.Input, Path = path, SourceRow = r.Row });
        }
    }
}

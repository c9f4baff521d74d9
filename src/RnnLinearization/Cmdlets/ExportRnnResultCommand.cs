using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>
/// Streams any of the module's results (RnnJacobian, RnnEigen, RnnEigenMode, RnnLinearizedStep, RnnFixedPoint,
/// RnnFlowPoint, RnnState) into a NumPy .npz: one array per property, stacked along the stream.
/// </summary>
[Cmdlet(VerbsData.Export, "RnnResult", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportRnnResultCommand : RnnCmdlet
{
    private NpzWriter? _writer;
    private string? _type;
    private HashSet<string> _ragged = new();
    private string _path = "";

    [Parameter(Mandatory = true, Position = 0)]
    public string Path { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _path = FileSystemPath(Path);
        if (!System.IO.Path.GetExtension(_path).Equals(".npz", StringComparison.OrdinalIgnoreCase))
            ThrowTerminatingError(Record(new RnnException("ResultExtension", RnnErrorKind.InvalidArgument,
                $"Export-RnnResult writes NumPy's .npz; name the file .npz, not '{System.IO.Path.GetFileName(_path)}'."), _path));
        if (NoClobber && File.Exists(_path))
            ThrowTerminatingError(Record(new RnnException("ResultFileExists", RnnErrorKind.WriteError, $"'{_path}' exists and -NoClobber was given."), _path));
        if (!ShouldProcess(_path, "Write results as .npz")) return;
        _writer = Terminating(() => new NpzWriter(_path), _path);
    }

    protected override void ProcessRecord()
    {
        if (_writer is null) return;
        if (InputObject.BaseObject is string or ValueType or Array)
        {
            // A bare value's only properties are its own (a string's Length): nothing a result file is for.
            WriteError(Record(new RnnException("NotAResult", RnnErrorKind.InvalidArgument,
                $"A bare {InputObject.BaseObject.GetType().Name} is not a result: Export-RnnResult writes objects with properties (the module's results, or your own [pscustomobject]s)."), InputObject));
            return;
        }
        var type = InputObject.BaseObject.GetType().FullName;
        if (_type is null)
        {
            _type = type;
            _ragged = InputObject.BaseObject.GetType().GetProperties()
                .Where(p => p.IsDefined(typeof(RaggedAttribute), false)).Select(p => p.Name).ToHashSet();
        }
        if (type != _type)
        {
            WriteError(Record(new RnnException("MixedResults", RnnErrorKind.InvalidArgument,
                $"A {type} in a stream of {_type}: one .npz holds results of one kind; write the others to another file."), InputObject));
            return;
        }
        _writer.Add(InputObject.Properties.Where(p => p.IsGettable && !_ragged.Contains(p.Name)).Select(p => (p.Name, Unwrap(p.Value))));
        if (_writer.Count % 10_000 == 0)
            WriteProgress(new ProgressRecord(0, "Export-RnnResult", $"{_writer.Count} results written to {_path}") { PercentComplete = -1 });
    }

    private static object? Unwrap(object? value) => value is PSObject o ? o.BaseObject : value;

    protected override void EndProcessing()
    {
        if (_writer is null) return;
        using (_writer)
        {
            Terminating(() => { _writer.Complete(NoClobber ? "ResultFileExists" : null); return 0; }, _path);
            foreach (var name in _writer.Dropped)
                WriteWarning(name == "Modes"
                    ? "'Modes' is not written: it holds objects, not numbers. Write them on their own: ... | ForEach-Object Modes | Export-RnnResult modes.npz."
                    : $"'{name}' is not written: some results lack it or have it in another shape." +
                      (_type == typeof(RnnTopEigen).FullName ? " Get-RnnEigen -Top gives k or k + 1 modes (a pair kept whole): pipe -Top -PerMode rows to keep every mode." : ""));
        }
        WriteProgress(new ProgressRecord(0, "Export-RnnResult", "Done") { RecordType = ProgressRecordType.Completed });
        if (PassThru) WriteObject(new FileInfo(_path));
    }

    /// <summary>Called by PowerShell when the pipeline ends, stopped or not: the temporary parts go, and no half file is left under the real name.</summary>
    protected override void Release() => _writer?.Dispose();
}

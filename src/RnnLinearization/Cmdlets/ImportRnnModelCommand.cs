using System.Collections;
using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

[Cmdlet(VerbsData.Import, "RnnModel")]
[OutputType(typeof(RnnModel))]
public sealed class ImportRnnModelCommand : RnnCmdlet
{
    /// <summary>A torch.save file (zip or legacy: state_dict, checkpoint or whole module), a .safetensors file or a TorchScript archive.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = null!;

    /// <summary>Inferred from the parameter shapes when not given; TorchScript must be asked for (its code runs).</summary>
    [Parameter]
    public Architecture? Architecture { get; set; }

    /// <summary>Taken from a pickled module when the file holds one; Tanh (assumed) otherwise.</summary>
    [Parameter]
    public Nonlinearity? Nonlinearity { get; set; }

    /// <summary>Key prefix of the RNN inside a larger model's state_dict, e.g. 'rnn' for 'rnn.weight_ih_l0'.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(FileKeyCompleter))]
    public string? Prefix { get; set; }

    /// <summary>dt / tau of a LeakyRnn, in (0, 1].</summary>
    [Parameter]
    public double? Alpha { get; set; }

    /// <summary>The time of one step, in the model's time unit: times are then reported in that unit. With -Tau, gives Alpha = Dt / Tau.</summary>
    [Parameter]
    public double? Dt { get; set; }

    [Parameter]
    public double? Tau { get; set; }

    /// <summary>Required for TorchScript, which does not record sizes; checked against the weights otherwise.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? InputSize { get; set; }

    /// <summary>The state size a TorchScript forward takes; checked against the weights otherwise.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? HiddenSize { get; set; }

    /// <summary>JSON of named unit ranges, {"PFC": [0, 40], "MD": [40, 60]}, for -Region.</summary>
    [Parameter]
    public string? RegionMap { get; set; }

    /// <summary>The readout: a key prefix (readout for readout.weight) or a 2-D tensor's key; found by itself when there is exactly one.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(FileKeyCompleter))]
    public string? Readout { get; set; }

    [Parameter]
    public SwitchParameter NoReadout { get; set; }

    /// <summary>The architecture's parameter names mapped to the file's keys: a key, a key with a column slice ('w[:, 0:4]'), or keys joined along columns.</summary>
    [Parameter]
    public IDictionary? ParameterMap { get; set; }

    private double? _alpha;
    private IReadOnlyDictionary<string, string[]>? _map;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Alpha is not null && Tau is not null)
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "Give -Alpha, or -Dt and -Tau (alpha = Dt / Tau), not both."), Alpha));
        if (Tau is not null && Dt is null)
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-Tau needs -Dt: alpha = Dt / Tau."), Tau));
        if (Dt is { } step && !(step > 0 && double.IsFinite(step)) || Tau is { } t && !(t > 0 && double.IsFinite(t)))
            ThrowTerminatingError(Record(new RnnException("InvalidDt", RnnErrorKind.InvalidArgument,
                "-Dt and -Tau are times: finite and above 0."), Dt));
        _alpha = Alpha ?? (Dt is { } dt && Tau is { } tau ? dt / tau : null);
        if (ParameterMap is not null) _map = Terminating(() => Map(ParameterMap), ParameterMap);
    }

    /// <summary>A hashtable of name = key or name = key, key, ... as the core takes it.</summary>
    private static IReadOnlyDictionary<string, string[]> Map(IDictionary map)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in map)
        {
            var value = e.Value is PSObject o ? o.BaseObject : e.Value;
            result[e.Key?.ToString() ?? ""] = value switch
            {
                string s => new[] { s },
                IEnumerable items => items.Cast<object?>().Select(i => (i is PSObject p ? p.BaseObject : i)?.ToString() ?? "").ToArray(),
                _ => throw new RnnException("InvalidParameterMap", RnnErrorKind.InvalidArgument,
                    $"-ParameterMap {e.Key} must be a key ('rnn.weight'), a key with a slice ('w[:, 0:4]') or an array of keys, not {value ?? "null"}."),
            };
        }
        return result;
    }

    /// <summary>Each file is loaded on its own: a file that cannot be is an error for that file, and the next one is read.</summary>
    protected override void ProcessRecord()
    {
        var path = FileSystemPath(Path);
        RnnModel model;
        try
        {
            model = Interruptible(() => ModelLoader.Load(path, Architecture, Nonlinearity, Prefix, _alpha, InputSize, HiddenSize, Readout, NoReadout, _map, StopToken));
            model.Dt = Dt;
            if (RegionMap is not null)
            {
                var map = FileSystemPath(RegionMap);
                model.Regions = Regions.Read(map, model.StateSize);
            }
        }
        catch (RnnException ex)
        {
            WriteError(Record(ex, path));
            return;
        }
        foreach (var note in model.LoadNotes) WriteVerbose(note);
        foreach (var warning in model.LoadWarnings) WriteWarning(warning);
        WriteObject(model);
    }
}

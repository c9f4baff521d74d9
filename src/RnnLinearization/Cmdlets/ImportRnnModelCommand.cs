using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

[Cmdlet(VerbsData.Import, "RnnModel")]
[OutputType(typeof(RnnModel))]
public sealed class ImportRnnModelCommand : RnnCmdlet
{
    /// <summary>A torch.save state_dict (zip format), a .safetensors file or a TorchScript archive.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string Path { get; set; } = null!;

    /// <summary>Inferred from the parameter shapes when not given.</summary>
    [Parameter]
    public Architecture? Architecture { get; set; }

    /// <summary>state_dicts do not record it: Tanh unless given (or stored in our safetensors metadata).</summary>
    [Parameter]
    public Nonlinearity? Nonlinearity { get; set; }

    /// <summary>Key prefix of the RNN inside a larger model's state_dict, e.g. 'rnn' for 'rnn.weight_ih_l0'.</summary>
    [Parameter]
    public string? Prefix { get; set; }

    /// <summary>dt / tau of a LeakyRnn, in (0, 1].</summary>
    [Parameter]
    public double? Alpha { get; set; }

    /// <summary>With -Tau, gives Alpha = Dt / Tau.</summary>
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

    /// <summary>Key prefix of the linear readout (readout for readout.weight); found by itself when there is exactly one.</summary>
    [Parameter]
    public string? Readout { get; set; }

    [Parameter]
    public SwitchParameter NoReadout { get; set; }

    protected override void ProcessRecord()
    {
        var path = FileSystemPath(Path);
        if (Alpha is not null && (Dt is not null || Tau is not null))
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "Give -Alpha, or -Dt and -Tau (alpha = Dt / Tau), not both."), Alpha));
        if ((Dt is null) != (Tau is null))
            ThrowTerminatingError(Record(new RnnException("ConflictingParameters", RnnErrorKind.InvalidArgument,
                "-Dt and -Tau go together: alpha = Dt / Tau."), Dt ?? Tau));
        double? alpha = Alpha ?? (Dt is { } dt && Tau is { } tau ? dt / tau : null);
        var model = Terminating(() => ModelLoader.Load(path, Architecture, Nonlinearity, Prefix, alpha, InputSize, HiddenSize, Readout, NoReadout), path);
        foreach (var note in model.LoadNotes) WriteVerbose(note);
        if (RegionMap is not null)
        {
            var map = FileSystemPath(RegionMap);
            model.Regions = Terminating(() => Regions.Read(map, model.StateSize), map);
        }
        WriteObject(model);
    }
}

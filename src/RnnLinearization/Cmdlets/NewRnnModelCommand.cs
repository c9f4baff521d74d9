using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>A new network with PyTorch's default initialisation (uniform in +-1/sqrt(HiddenSize)).</summary>
[Cmdlet(VerbsCommon.New, "RnnModel")]
[OutputType(typeof(RnnModel))]
public sealed class NewRnnModelCommand : RnnCmdlet
{
    [Parameter(Mandatory = true)]
    [ValidateRange(1, 1_000_000)]
    public int InputSize { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateRange(1, 1_000_000)]
    public int HiddenSize { get; set; }

    [Parameter]
    [ValidateRange(1, 1000)]
    public int NumLayers { get; set; } = 1;

    /// <summary>A TorchScript cell is written in Python, never created here: the set leaves it out (also from tab completion).</summary>
    [Parameter]
    [ValidateSet(nameof(Architecture.Rnn), nameof(Architecture.Gru), nameof(Architecture.Lstm), nameof(Architecture.LeakyRnn))]
    public Architecture Architecture { get; set; } = Architecture.Rnn;

    [Parameter]
    public Nonlinearity Nonlinearity { get; set; } = Nonlinearity.Tanh;

    [Parameter]
    public SwitchParameter NoBias { get; set; }

    /// <summary>Makes the weights reproducible.</summary>
    [Parameter]
    public int? Seed { get; set; }

    /// <summary>dt / tau, for -Architecture LeakyRnn.</summary>
    [Parameter]
    public double? Alpha { get; set; }

    protected override void ProcessRecord() =>
        WriteObject(Terminating(() => ModelFactory.Create(Architecture, InputSize, HiddenSize, NumLayers, Nonlinearity, !NoBias, Seed, Alpha), null));
}

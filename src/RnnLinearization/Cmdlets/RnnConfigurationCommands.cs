using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>Settings of the computations in this PowerShell process.</summary>
public sealed class RnnConfiguration
{
    /// <summary>libtorch's intra-op threads, shared by every analysis in the process.</summary>
    public int ThreadCount { get; init; }
    public int ProcessorCount { get; init; }
    public string ModuleVersion { get; init; } = "";
}

[Cmdlet(VerbsCommon.Get, "RnnConfiguration")]
[OutputType(typeof(RnnConfiguration))]
public sealed class GetRnnConfigurationCommand : RnnCmdlet
{
    protected override void ProcessRecord() => WriteObject(Current());

    internal static RnnConfiguration Current() => new()
    {
        ThreadCount = TorchRuntime.Threads,
        ProcessorCount = Environment.ProcessorCount,
        ModuleVersion = typeof(RnnCmdlet).Assembly.GetName().Version?.ToString(3) ?? "",
    };
}

[Cmdlet(VerbsCommon.Set, "RnnConfiguration", SupportsShouldProcess = true)]
[OutputType(typeof(RnnConfiguration))]
public sealed class SetRnnConfigurationCommand : RnnCmdlet
{
    /// <summary>libtorch's intra-op threads for this process (libtorch's default is one per core).</summary>
    [Parameter(Mandatory = true)]
    [ValidateRange(1, 1024)]
    public int ThreadCount { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ThreadCount > Environment.ProcessorCount)
            WriteWarning($"{ThreadCount} threads on {Environment.ProcessorCount} cores: threads beyond the cores compete for them and slow libtorch down.");
        if (ShouldProcess($"{ThreadCount} threads", "Set libtorch's intra-op thread count"))
            Terminating(() => TorchRuntime.Threads = ThreadCount, ThreadCount);
        if (PassThru) WriteObject(GetRnnConfigurationCommand.Current());
    }
}

using System.Management.Automation;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>What every cmdlet of the module shares: libtorch loaded up front, core errors as ErrorRecords.</summary>
public abstract class RnnCmdlet : PSCmdlet
{
    protected override void BeginProcessing()
    {
        try { TorchRuntime.EnsureLoaded(); }
        catch (RnnException ex) { ThrowTerminatingError(Record(ex, null)); }
    }

    /// <summary>The core's error kinds are named after PowerShell's categories.</summary>
    protected static ErrorRecord Record(RnnException ex, object? target) =>
        new(ex, ex.ErrorId, Enum.TryParse<ErrorCategory>(ex.Kind.ToString(), out var category) ? category : ErrorCategory.NotSpecified, target);

    /// <summary>Runs <paramref name="work"/>; a core error ends the command.</summary>
    protected T Terminating<T>(Func<T> work, object? target)
    {
        try { return work(); }
        catch (RnnException ex) { ThrowTerminatingError(Record(ex, target)); throw; }
    }

    protected string FileSystemPath(string path) => GetUnresolvedProviderPathFromPSPath(path);
}

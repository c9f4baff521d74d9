using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>A parameter that also takes a file's path (or a FileInfo): the file is read into the parameter's value.</summary>
public abstract class FileTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Reads the file (a full file-system path); an RnnException says why it cannot.</summary>
    protected abstract object Read(string path);

    /// <summary>The end of the error message: what the file was read as, and what to do instead.</summary>
    protected abstract string Failure(string path, RnnException ex);

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject o ? o.BaseObject : inputData;
        string? path = value switch { string s => s, FileInfo f => f.FullName, _ => null };
        if (path is null) return inputData;
        try { return Read(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path)); }
        catch (RnnException ex) { throw new ArgumentTransformationMetadataException(Failure(path, ex), ex); }
    }
}

/// <summary>-Model also takes a path: the model file is loaded as Import-RnnModel loads it with no options.</summary>
public sealed class ModelTransformationAttribute : FileTransformationAttribute
{
    protected override object Read(string path)
    {
        TorchRuntime.EnsureLoaded();
        return ModelLoader.Load(path);
    }

    protected override string Failure(string path, RnnException ex) =>
        $"'{path}' could not be loaded as a model ({ex.ErrorId}): {ex.Message} For files that need options, use Import-RnnModel.";
}

/// <summary>A parameter of states (double[][]) also takes the path of a state file: its rows' states, as Import-RnnState reads them.</summary>
public sealed class StatesTransformationAttribute : FileTransformationAttribute
{
    protected override object Read(string path) => StateReader.Read(path).Select(r => r.State).ToArray();

    protected override string Failure(string path, RnnException ex) => $"'{path}' could not be read as a state file ({ex.ErrorId}): {ex.Message}";
}

/// <summary>Completes -Region with the region names of the -Model already given.</summary>
public sealed class RegionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var model = fakeBoundParameters["Model"] is PSObject o ? o.BaseObject as RnnModel : fakeBoundParameters["Model"] as RnnModel;
        if (model?.Regions is not { } regions) yield break;
        foreach (var name in regions.Keys.Where(n => n.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase)).Order())
            yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, $"units {regions[name].Start} to {regions[name].End - 1}");
    }
}

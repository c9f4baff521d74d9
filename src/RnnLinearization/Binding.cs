using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using RnnLinearization.Core;

namespace RnnLinearization;

/// <summary>-Model also takes a path (or a FileInfo): the model file is loaded as Import-RnnModel loads it with no options.</summary>
public sealed class ModelTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject o ? o.BaseObject : inputData;
        string? path = value switch { string s => s, FileInfo f => f.FullName, _ => null };
        if (path is null) return inputData;
        try
        {
            TorchRuntime.EnsureLoaded();
            var model = ModelLoader.Load(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path));
            return model;
        }
        catch (RnnException ex)
        {
            throw new ArgumentTransformationMetadataException(
                $"'{path}' could not be loaded as a model ({ex.ErrorId}): {ex.Message} For files that need options, use Import-RnnModel.", ex);
        }
    }
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

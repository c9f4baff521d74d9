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

/// <summary>Completes -Prefix and -Readout with the keys of the file given to -Path (read without building a model).</summary>
public sealed class FileKeyCompleter : IArgumentCompleter
{
    private static readonly string[] Recurrent = { "weight_ih_l0", "weight_ih", "weight_hh", "W_rec" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var given = fakeBoundParameters["Path"] is PSObject o ? o.BaseObject : fakeBoundParameters["Path"];
        if (given?.ToString() is not { Length: > 0 } path) return Array.Empty<CompletionResult>();
        try
        {
            string full = FileSystemPath(path);
            using var file = ModelFile.Open(full);
            var tensors = file.Tensors;
            IEnumerable<(string Text, string Tip)> candidates = parameterName == "Prefix"
                ? tensors.Keys.SelectMany(k => Recurrent.Where(r => k == r || k.EndsWith("." + r, StringComparison.Ordinal))
                    .Select(r => k[..^r.Length].TrimEnd('.'))).Where(p => p.Length > 0).Distinct().Select(p => (p, $"RNN weights under '{p}.'"))
                : tensors.Where(kv => kv.Value.Shape.Length == 2 && !ModelFactory.IsRecurrentKey(kv.Key[(kv.Key.LastIndexOf('.') + 1)..]))
                    .Select(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) ? (kv.Key[..^".weight".Length], $"{kv.Key} [{string.Join(", ", kv.Value.Shape)}]") : (kv.Key, $"[{string.Join(", ", kv.Value.Shape)}]"));
            return candidates.Where(c => c.Text.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .Select(c => new CompletionResult(c.Text.Contains(' ') ? $"'{c.Text}'" : c.Text, c.Text, CompletionResultType.ParameterValue, c.Tip)).ToList();
        }
        catch (Exception ex) when (ex is RnnException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Array.Empty<CompletionResult>();
        }
    }

    /// <summary>The path as the session sees it (relative to its location), asked of the runspace completing.</summary>
    private static string FileSystemPath(string path)
    {
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddScript("param($p) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($p)").AddArgument(path);
        return ps.Invoke<string>().FirstOrDefault() ?? System.IO.Path.GetFullPath(path);
    }
}

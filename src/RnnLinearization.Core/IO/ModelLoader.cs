namespace RnnLinearization.Core;

/// <summary>
/// Loads a model from a file (see <see cref="ModelFile"/> for the formats). TorchScript runs its own code, so it is
/// loaded only when asked for with <see cref="Architecture.TorchScript"/>.
/// </summary>
public static class ModelLoader
{
    /// <param name="alpha">dt / tau, for a LeakyRnn (files written by Export-RnnModel record it).</param>
    /// <param name="inputSize">Required for TorchScript, which does not record it; checked against the weights otherwise.</param>
    /// <param name="hiddenSize">The state size a TorchScript forward takes (required there); checked against the weights otherwise.</param>
    /// <param name="readout">The readout's key prefix or key; found by itself when null (see <see cref="ModelFactory.FromStateDict"/>).</param>
    /// <param name="noReadout">Ignores any readout in the file.</param>
    /// <param name="parameterMap">The module's parameter names mapped to the file's own keys (see <see cref="ParameterMap"/>).</param>
    /// <param name="token">Stops the read between bounded pieces of work.</param>
    public static RnnModel Load(string path, Architecture? architecture = null, Nonlinearity? nonlinearity = null, string? prefix = null,
        double? alpha = null, int? inputSize = null, int? hiddenSize = null, string? readout = null, bool noReadout = false,
        IReadOnlyDictionary<string, string[]>? parameterMap = null, CancellationToken token = default)
    {
        RnnModel model;
        try
        {
            using var file = ModelFile.Open(path, token);
            if (file.IsTorchScript)
                model = architecture == Architecture.TorchScript ? LoadScript(path, inputSize, hiddenSize, nonlinearity)
                    : throw new RnnException("TorchScriptNotRequested", RnnErrorKind.InvalidData,
                        $"'{path}' is a TorchScript archive. Loading it runs its code (as torch.jit.load does), so it is loaded only when asked for: " +
                        "if you trust the file, import it with -Architecture TorchScript -InputSize <n> -HiddenSize <n>.");
            else if (architecture == Architecture.TorchScript)
                throw new RnnException("NotTorchScript", RnnErrorKind.InvalidData,
                    $"'{path}' is not a TorchScript archive ({file.Format}); save one in Python with torch.jit.script(cell).save(path), or leave -Architecture TorchScript out.");
            else model = LoadStateDict(file, architecture, nonlinearity, prefix, alpha, readout, noReadout, parameterMap);
        }
        catch (OutOfMemoryException ex)
        {
            throw new RnnException("InsufficientMemory", RnnErrorKind.ResourceUnavailable, $"'{path}' needs more memory to read than this process has.", ex);
        }
        if ((inputSize is { } i && i != model.InputSize) || (hiddenSize is { } h && h != model.HiddenSize))
            throw new RnnException("ModelSizeMismatch", RnnErrorKind.InvalidData,
                $"'{path}' holds a model with input size {model.InputSize} and hidden size {model.HiddenSize}, which does not match " +
                string.Join(" and ", new[] { inputSize is null ? null : $"-InputSize {inputSize}", hiddenSize is null ? null : $"-HiddenSize {hiddenSize}" }.OfType<string>()) + ".");
        model.Path = Path.GetFullPath(path);
        return model;
    }

    private static RnnModel LoadScript(string path, int? inputSize, int? hiddenSize, Nonlinearity? nonlinearity)
    {
        if (nonlinearity is not null)
            throw new RnnException("NonlinearityNotApplicable", RnnErrorKind.InvalidArgument,
                "-Nonlinearity does not apply to a TorchScript cell, whose forward is its own; leave it out.");
        if (inputSize is null || hiddenSize is null)
            throw new RnnException("ScriptSizeRequired", RnnErrorKind.InvalidArgument,
                $"'{path}' is a TorchScript module, which does not record its sizes; give -InputSize and -HiddenSize (the length " +
                "of the state h that its forward(input, h) takes and returns).");
        TorchRuntime.EnsureLoaded();
        byte[] archive;
        try { archive = File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("ModelFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
        TorchZip.VerifyChecksums(archive, path);
        return new ScriptedRnn(archive, inputSize.Value, hiddenSize.Value);
    }

    private static RnnModel LoadStateDict(ModelFile file, Architecture? architecture, Nonlinearity? nonlinearity, string? prefix, double? alpha,
        string? readout, bool noReadout, IReadOnlyDictionary<string, string[]>? parameterMap)
    {
        var metadata = file.Metadata;   // what Export-RnnModel records
        if (nonlinearity is null && metadata.TryGetValue("nonlinearity", out var stored) && Enum.TryParse<Nonlinearity>(stored, true, out var parsed))
            nonlinearity = parsed;
        if (architecture is null && metadata.TryGetValue("architecture", out var arch) && arch == nameof(Architecture.LeakyRnn))
            architecture = Architecture.LeakyRnn;
        if (alpha is null && metadata.TryGetValue("alpha", out var a) && double.TryParse(a, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var storedAlpha))
            alpha = storedAlpha;
        var model = ModelFactory.FromStateDict(file.Tensors, architecture, nonlinearity, prefix, alpha, readout, noReadout, parameterMap, file.Modules);
        bool whole = file.Entries.Any(e => e.Kind == "Module");
        model.Notes.Add($"Read as {file.Format}{(whole ? ", a whole pickled module (its tensors named as its state_dict() names them; nothing in it was run)" : "")}.");
        foreach (var call in file.Calls)
            model.Warnings.Add($"'{file.Path}' would call {call} when loaded in Python (torch.load); it was not called here. " +
                "Unless you trust the file, open it in Python with torch.load(path, weights_only=True).");
        return model;
    }

}

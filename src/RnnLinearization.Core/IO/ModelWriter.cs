namespace RnnLinearization.Core;

/// <summary>Writes models to files: safetensors, which any PyTorch installation reads (Export-RnnModel).</summary>
public static class ModelWriter
{
    /// <summary>Writes the model as safetensors under PyTorch's key names, with architecture and nonlinearity as metadata.</summary>
    public static void Export(RnnModel model, string path, string? noClobberId = null)
    {
        if (model is ScriptedRnn)
            throw new RnnException("ExportNotSupported", RnnErrorKind.InvalidArgument,
                "A TorchScript cell is its archive: copy the file it was imported from; safetensors cannot hold its code.");
        if (!string.Equals(System.IO.Path.GetExtension(path), ".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new RnnException("ExportExtension", RnnErrorKind.InvalidArgument,
                $"Export-RnnModel writes safetensors, not torch.save's format: name the file .safetensors, not '{System.IO.Path.GetFileName(path)}' " +
                "(in Python: safetensors.torch.load_file(path)).");
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = model.Architecture.ToString(),
            ["nonlinearity"] = model.Nonlinearity?.ToString().ToLowerInvariant() ?? "",
            ["format"] = "pt",
        };
        if (model is LeakyRnn leaky) metadata["alpha"] = leaky.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var parameters = model.Readout is null ? model.Parameters
            : model.Parameters.Concat(model.Readout.Keys()).ToDictionary(kv => kv.Key, kv => kv.Value);
        try { SafeTensors.Write(path, parameters, metadata, noClobberId); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("ModelFileUnwritable", RnnErrorKind.WriteError, $"'{path}' cannot be written: {ex.Message}", ex);
        }
    }
}

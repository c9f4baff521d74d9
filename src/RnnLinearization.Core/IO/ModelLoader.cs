using System.Collections;
using System.IO.Compression;
using TorchSharp;
using TorchSharp.PyBridge;

namespace RnnLinearization.Core;

/// <summary>Reads a model file: a torch.save zip state_dict or a safetensors file. The format is told by the bytes, not the name.</summary>
public static class ModelLoader
{
    /// <param name="alpha">dt / tau, for a LeakyRnn (files written by Export-RnnModel record it).</param>
    public static RnnModel Load(string path, Architecture? architecture = null, Nonlinearity? nonlinearity = null, string? prefix = null,
        double? alpha = null)
    {
        if (!File.Exists(path))
            throw new RnnException("ModelFileNotFound", RnnErrorKind.ObjectNotFound, $"No model file at '{path}'.");
        if (architecture is Architecture.TorchScript)
            throw NotYet(architecture.Value.ToString());
        var (parameters, metadata) = ReadParameters(path);
        if (nonlinearity is null && metadata.TryGetValue("nonlinearity", out var stored) && Enum.TryParse<Nonlinearity>(stored, true, out var parsed))
            nonlinearity = parsed;
        if (architecture is null && metadata.TryGetValue("architecture", out var arch) && arch == nameof(Architecture.LeakyRnn))
            architecture = Architecture.LeakyRnn;
        if (alpha is null && metadata.TryGetValue("alpha", out var a) && double.TryParse(a, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var storedAlpha))
            alpha = storedAlpha;
        var model = ModelFactory.FromStateDict(parameters, architecture, nonlinearity ?? Nonlinearity.Tanh, prefix, alpha);
        model.Path = Path.GetFullPath(path);
        return model;
    }

    internal static RnnException NotYet(string what) =>
        new("ArchitectureNotSupported", RnnErrorKind.NotImplemented,
            $"{what} models are not supported yet; this version analyses nn.RNN (Elman), nn.GRU, nn.LSTM and leaky rate (LeakyRnn) networks.");

    private static (Dictionary<string, Parameter>, Dictionary<string, string>) ReadParameters(string path)
    {
        byte[] head = new byte[16];
        long length;
        try
        {
            using var f = File.OpenRead(path);
            length = f.Length;
            head = head[..f.Read(head, 0, head.Length)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("ModelFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }

        if (head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            return (ReadTorchZip(path), new Dictionary<string, string>());
        if (SafeTensors.LooksLike(head, length))
        {
            try { return SafeTensors.Read(path); }
            catch (Exception ex) when (ex is not RnnException)
            {
                throw new RnnException("UnreadableModelFile", RnnErrorKind.InvalidData, $"'{path}' looks like safetensors but cannot be read: {ex.Message}", ex);
            }
        }
        if (head.Length >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new RnnException("LegacyTorchFormat", RnnErrorKind.InvalidData,
                $"'{path}' was written by torch.save in the legacy (pre-1.6, non-zip) format. Re-save it in Python with " +
                "torch.save(torch.load(path), new_path), which writes the zip format, or save it as safetensors.");
        throw new RnnException("UnknownModelFormat", RnnErrorKind.InvalidData,
            $"'{path}' is neither a torch.save zip file nor a safetensors file.");
    }

    private static Dictionary<string, Parameter> ReadTorchZip(string path)
    {
        try
        {
            using (var zip = ZipFile.OpenRead(path))
            {
                // A TorchScript archive holds code next to its pickles; a state_dict does not.
                if (zip.Entries.Any(e => e.FullName.Contains("/code/") || e.FullName.EndsWith("/constants.pkl")))
                    throw new RnnException("TorchScriptNotSupported", RnnErrorKind.NotImplemented,
                        $"'{path}' is a TorchScript module; this version reads state_dicts (torch.save(model.state_dict(), path)).");
            }
            TorchRuntime.EnsureLoaded();
            using var scope = torch.NewDisposeScope();
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Parameter>();
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is string key && entry.Value is torch.Tensor t && t.is_floating_point())
                    result[key] = new Parameter(t.shape.ToArray(), TensorData.Flat(t));
            }
            return result;
        }
        catch (Exception ex) when (ex is not RnnException)
        {
            throw new RnnException("UnreadableModelFile", RnnErrorKind.InvalidData,
                $"'{path}' is a zip file but not a readable state_dict (save one with torch.save(model.state_dict(), path)): {ex.Message}", ex);
        }
    }
}

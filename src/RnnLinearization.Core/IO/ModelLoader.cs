using System.IO.Compression;
using TorchSharp;

namespace RnnLinearization.Core;

/// <summary>Reads a model file: a torch.save zip state_dict or a safetensors file. The format is told by the bytes, not the name.</summary>
public static class ModelLoader
{
    /// <param name="alpha">dt / tau, for a LeakyRnn (files written by Export-RnnModel record it).</param>
    /// <param name="inputSize">Required for TorchScript, which does not record it; checked against the weights otherwise.</param>
    /// <param name="hiddenSize">The state size a TorchScript forward takes (required there); checked against the weights otherwise.</param>
    /// <param name="readout">Key prefix of the linear readout; found by itself when null (see <see cref="ModelFactory.FromStateDict"/>).</param>
    /// <param name="noReadout">Ignores any readout in the file.</param>
    public static RnnModel Load(string path, Architecture? architecture = null, Nonlinearity? nonlinearity = null, string? prefix = null,
        double? alpha = null, int? inputSize = null, int? hiddenSize = null, string? readout = null, bool noReadout = false)
    {
        if (Directory.Exists(path))
            throw new RnnException("ModelPathIsDirectory", RnnErrorKind.InvalidArgument,
                $"'{path}' is a directory; give the model file in it (torch.save's .pt, a .safetensors file or a TorchScript archive).");
        if (!File.Exists(path))
            throw new RnnException("ModelFileNotFound", RnnErrorKind.ObjectNotFound, $"No model file at '{path}'.");
        bool script = IsTorchScript(path);
        var model = script || architecture is Architecture.TorchScript
            ? LoadScript(path, script, architecture, inputSize, hiddenSize, nonlinearity)
            : LoadStateDict(path, architecture, nonlinearity, prefix, alpha, readout, noReadout);
        if ((inputSize is { } i && i != model.InputSize) || (hiddenSize is { } h && h != model.HiddenSize))
            throw new RnnException("ModelSizeMismatch", RnnErrorKind.InvalidData,
                $"'{path}' holds a model with input size {model.InputSize} and hidden size {model.HiddenSize}, not the " +
                $"{inputSize?.ToString() ?? "any"} and {hiddenSize?.ToString() ?? "any"} asked for.");
        model.Path = Path.GetFullPath(path);
        return model;
    }

    private static RnnModel LoadScript(string path, bool isScript, Architecture? architecture, int? inputSize, int? hiddenSize, Nonlinearity? nonlinearity)
    {
        if (!isScript)
            throw new RnnException("NotTorchScript", RnnErrorKind.InvalidData,
                $"'{path}' is not a TorchScript archive; save one in Python with torch.jit.script(cell).save(path).");
        if (architecture is { } given && given != Architecture.TorchScript)
            throw new RnnException("ArchitectureMismatch", RnnErrorKind.InvalidData,
                $"'{path}' is a TorchScript module, not a {given} state_dict; import it with -Architecture TorchScript, or save the " +
                "state_dict instead (torch.save(model.state_dict(), path)).");
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

    private static RnnModel LoadStateDict(string path, Architecture? architecture, Nonlinearity? nonlinearity, string? prefix, double? alpha,
        string? readout, bool noReadout)
    {
        var (parameters, metadata) = ReadParameters(path);
        bool assumed = false;
        if (nonlinearity is null && metadata.TryGetValue("nonlinearity", out var stored) && Enum.TryParse<Nonlinearity>(stored, true, out var parsed))
            nonlinearity = parsed;
        else if (nonlinearity is null) assumed = true;
        if (architecture is null && metadata.TryGetValue("architecture", out var arch) && arch == nameof(Architecture.LeakyRnn))
            architecture = Architecture.LeakyRnn;
        if (alpha is null && metadata.TryGetValue("alpha", out var a) && double.TryParse(a, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var storedAlpha))
            alpha = storedAlpha;
        var model = ModelFactory.FromStateDict(parameters, architecture, nonlinearity ?? Nonlinearity.Tanh, prefix, alpha, readout, noReadout);
        if (!assumed && nonlinearity is not Nonlinearity.Tanh && model.Architecture is Architecture.Gru or Architecture.Lstm)
            throw new RnnException("NonlinearityNotApplicable", RnnErrorKind.InvalidArgument,
                $"-Nonlinearity {nonlinearity} does not apply to an nn.{model.Architecture.ToString().ToUpperInvariant()}, whose gates use sigmoid and tanh; leave it out.");
        if (assumed && model.Architecture is Architecture.Rnn or Architecture.LeakyRnn)
            model.Notes.Insert(0, "Nonlinearity: Tanh assumed (a state_dict does not record it); give -Nonlinearity for another.");
        return model;
    }

    /// <summary>A TorchScript archive is a zip that holds code next to its pickles; a state_dict does not.</summary>
    private static bool IsTorchScript(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return zip.Entries.Any(e => e.FullName.Contains("/code/") || e.FullName.EndsWith("/constants.pkl"));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return false;   // not a zip: ReadParameters tells what it is
        }
    }

    internal static RnnException NotYet(string what) =>
        new("ArchitectureNotSupported", RnnErrorKind.NotImplemented,
            $"{what} models are not supported; this version analyses nn.RNN (Elman), nn.GRU, nn.LSTM, leaky rate (LeakyRnn) networks and TorchScript cells.");

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
        try { return TorchZip.Read(path); }
        catch (Exception ex) when (ex is not RnnException)
        {
            throw new RnnException("UnreadableModelFile", RnnErrorKind.InvalidData, $"'{path}' is a damaged zip file (truncated or corrupt): {ex.Message}", ex);
        }
    }
}

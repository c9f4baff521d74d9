namespace RnnLinearization.Core;

/// <summary>
/// Input sequences of several trials, as users keep them: one array [trials, steps, inputs] in a .npy, or as "inputs"
/// in an .npz (numpy.save / numpy.savez); [steps, inputs] is one trial. float32 or float64.
/// </summary>
public static class TrialInputs
{
    public static double[][][] Read(string path)
    {
        if (Directory.Exists(path))
            throw new RnnException("InputPathIsDirectory", RnnErrorKind.InvalidArgument, $"'{path}' is a directory; give a .npy or .npz file of inputs [trials, steps, inputs].");
        if (!File.Exists(path))
            throw new RnnException("InputFileNotFound", RnnErrorKind.ObjectNotFound, $"No input file at '{path}'.");
        string ext = Path.GetExtension(path).ToLowerInvariant();
        try
        {
            if (ext == ".npy")
            {
                using var file = File.OpenRead(path);
                return Read(file, file.Length, path);
            }
            if (ext == ".npz")
            {
                using var zip = Npy.OpenNpz(path);
                var entry = zip.GetEntry("inputs.npy")
                    ?? throw Bad(path, $"it has no array 'inputs' (it has {string.Join(", ", zip.Entries.Select(e => e.Name))}); save with numpy.savez(path, inputs=...).");
                using var stream = entry.Open();
                return Read(stream, entry.Length, $"{path} (inputs)");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RnnException("InputFileUnreadable", RnnErrorKind.ReadError, $"'{path}' cannot be read: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or OverflowException)
        {
            throw Bad(path, $"it is damaged or not what its extension says: {ex.Message}");
        }
        throw new RnnException("UnknownInputFormat", RnnErrorKind.InvalidArgument, $"'{path}' has extension '{ext}'; trial inputs are read from .npy or .npz files.");
    }

    private static double[][][] Read(Stream stream, long length, string name)
    {
        var info = Npy.ReadAnyHeader(stream, length, name, (n, why) => Bad(n, why));
        if (info.Descr is not ("<f8" or "<f4"))
            throw Bad(name, $"the array's dtype is '{info.Descr}'; inputs are float32 or float64 (little-endian).");
        if (info.Shape.Length is < 2 or > 3)
            throw Bad(name, $"the array has shape [{string.Join(", ", info.Shape)}]; inputs are [trials, steps, inputs], or [steps, inputs] for one trial.");
        if (info.Shape.Any(d => d == 0))
            throw new RnnException("EmptyInputFile", RnnErrorKind.InvalidData, $"'{name}' holds no inputs (shape [{string.Join(", ", info.Shape)}]).");
        long trials = info.Shape.Length == 3 ? info.Shape[0] : 1, steps = info.Shape[^2], inputs = info.Shape[^1];
        var data = Npy.ReadRows(stream, info with { Shape = new[] { checked(trials * steps), inputs } }, 0, trials * steps, name, (n, why) => Bad(n, why));
        var result = new double[trials][][];
        for (long t = 0; t < trials; t++)
        {
            result[t] = new double[steps][];
            for (long s = 0; s < steps; s++) result[t][s] = data.AsSpan((int)((t * steps + s) * inputs), (int)inputs).ToArray();
        }
        return result;
    }

    private static RnnException Bad(string name, string why) => new("InvalidInputFile", RnnErrorKind.InvalidData, $"'{name}': {why}");
}

namespace RnnLinearization.Core;

/// <summary>
/// Every file the module writes is written under a temporary name beside it and moved into place when complete, so an
/// interrupted write (Ctrl+C, a full disk, a crash) never leaves a half file under the real name.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        try
        {
            using (var file = File.Create(temporary))
                write(file);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}

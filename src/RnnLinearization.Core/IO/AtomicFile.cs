namespace RnnLinearization.Core;

/// <summary>
/// Every file the module writes is written under a temporary name beside it and moved into place when complete, so an
/// interrupted write (Ctrl+C, a full disk, a crash) never leaves a half file under the real name.
/// </summary>
public static class AtomicFile
{
    /// <param name="noClobberId">-NoClobber: the move never replaces a file, and a file that exists at that moment (another
    /// job's, written while this one wrote) fails the write with this error id. The cmdlets also check before they start,
    /// so that a long write is not wasted; only the move decides. The move is link(2) then unlink, atomic; on a filesystem
    /// without hard links (exFAT, some SMB and FUSE mounts) .NET copies to a new file instead, which is exclusive but
    /// visible while it is copied.</param>
    public static void Write(string path, Action<Stream> write, string? noClobberId = null)
    {
        string temporary = TemporaryFiles.Claim(path, "partial");
        try
        {
            using (var file = File.Create(temporary))
                write(file);
            if (noClobberId is null) File.Move(temporary, path, overwrite: true);
            else
            {
                try { File.Move(temporary, path, overwrite: false); }   // link(2) then unlink: fails if the name exists, atomically
                catch (IOException) when (File.Exists(path))
                {
                    throw new RnnException(noClobberId, RnnErrorKind.WriteError,
                        $"'{path}' was written by someone else while this command wrote it, and -NoClobber was given: theirs is kept, this copy is not.");
                }
            }
        }
        finally
        {
            TemporaryFiles.Release(temporary);
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;

namespace RnnLinearization.Core;

/// <summary>
/// The temporary files and folders the writers keep beside their targets (a .partial file, a .parts folder). Each is
/// deleted when its write ends, and those still open when the process exits or is ended by SIGTERM (a timeout, a Slurm
/// time limit) or SIGHUP are deleted then: Ctrl+C's cleanup (the pipeline's Dispose) never runs there. A kill that runs nothing
/// (SIGKILL) leaves them, so their names carry the host and process, and the next write beside the same target
/// deletes those whose process on this host is gone (never another live job's).
/// </summary>
internal static class TemporaryFiles
{
    private static readonly ConcurrentDictionary<string, bool> Open = new();

    /// <summary>
    /// SIGTERM and SIGHUP end pwsh without ProcessExit (measured: a ProcessExit handler never ran), so the signals are
    /// watched themselves; the handler deletes and lets the signal end the process as before. Kept here: a registration
    /// that is collected stops watching.
    /// </summary>
    private static readonly System.Runtime.InteropServices.PosixSignalRegistration[] Signals =
        OperatingSystem.IsWindows() ? Array.Empty<System.Runtime.InteropServices.PosixSignalRegistration>() : new[]
        {
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => DeleteOpen()),
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, _ => DeleteOpen()),
        };

    static TemporaryFiles() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteOpen();

    private static void DeleteOpen()
    {
        foreach (var path in Open.Keys) Delete(path);
    }

    /// <summary>A fresh name beside <paramref name="target"/>, ending in <paramref name="suffix"/> ("partial", "parts"), held until <see cref="Release"/>.</summary>
    public static string Claim(string target, string suffix)
    {
        var full = Path.GetFullPath(target);
        Sweep(full);
        var path = Path.Combine(Path.GetDirectoryName(full)!, $"{Prefix(full)}{Host}.{Environment.ProcessId}.{Guid.NewGuid():N}.{suffix}");
        Open[path] = true;
        return path;
    }

    /// <summary>Deletes the file or folder (if it is still there) and forgets it.</summary>
    public static void Release(string path)
    {
        Delete(path);
        Open.TryRemove(path, out _);
    }

    private static string Host => string.Concat(Environment.MachineName.Select(c => char.IsLetterOrDigit(c) || c == '-' ? c : '_'));

    private static string Prefix(string fullTarget) => $".{Path.GetFileName(fullTarget)}.";

    /// <summary>Deletes what a process of this host that no longer runs left beside the target.</summary>
    private static void Sweep(string fullTarget)
    {
        var directory = Path.GetDirectoryName(fullTarget)!;
        string prefix = Prefix(fullTarget);
        IEnumerable<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries(directory, prefix + "*").ToList(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return; }
        foreach (var entry in entries)
        {
            // .<target>.<host>.<pid>.<guid>.<suffix>
            var fields = Path.GetFileName(entry)[prefix.Length..].Split('.');
            if (fields.Length != 4 || fields[0] != Host || !int.TryParse(fields[1], out int pid) || fields[3] is not ("partial" or "parts")) continue;
            if (pid == Environment.ProcessId ? Open.ContainsKey(entry) : Alive(pid)) continue;
            Delete(entry);
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }   // no such process
        catch (InvalidOperationException) { return false; }
    }

    private static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}

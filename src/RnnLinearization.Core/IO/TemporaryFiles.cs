using System.Collections.Concurrent;
using System.Diagnostics;

namespace RnnLinearization.Core;

/// <summary>
/// The temporary files and folders the writers keep beside their targets (a .partial file, a .parts folder). Each is
/// deleted when its write ends, and those still open when the process exits or is ended by SIGTERM (a timeout, a Slurm
/// time limit) or SIGHUP are deleted then: Ctrl+C's cleanup (the pipeline's Dispose) never runs there. A kill that runs nothing
/// (SIGKILL) leaves them, so their names carry the host, the PID namespace and the process, and the next write beside
/// the same target deletes those of a process of this host and namespace that is gone and that nothing has written to
/// for an hour (a process elsewhere, or in another container, is never judged: its pid means nothing here).
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
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new RnnException("OutputFolderNotFound", RnnErrorKind.ObjectNotFound,
                $"The folder '{folder}' does not exist, so '{Path.GetFileName(full)}' cannot be written there: create it first (New-Item -ItemType Directory '{folder}').");
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

    /// <summary>
    /// The full host name (Environment.MachineName stops at the first dot) and the PID namespace's inode: two containers
    /// with one host name have different namespaces, and a pid is only meaningful in its own.
    /// </summary>
    private static readonly string Host = string.Concat(System.Net.Dns.GetHostName().Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_'))
        + "-" + PidNamespace();

    private static string PidNamespace()
    {
        try
        {
            // "pid:[4026531836]"
            var target = File.ResolveLinkTarget("/proc/self/ns/pid", false)?.Name ?? "";
            return new string(target.Where(char.IsAsciiDigit).ToArray()) is { Length: > 0 } digits ? digits : "0";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException) { return "0"; }
    }

    /// <summary>How long a dead process's temporary must have been left alone before it is deleted.</summary>
    private static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

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
            if (DateTime.UtcNow - LastWrite(entry) < StaleAfter) continue;
            Delete(entry);
        }
    }

    /// <summary>The latest write to a file, or to a folder or anything in it.</summary>
    private static DateTime LastWrite(string entry)
    {
        try
        {
            if (!Directory.Exists(entry)) return File.GetLastWriteTimeUtc(entry);
            return new DirectoryInfo(entry).EnumerateFiles("*", SearchOption.AllDirectories).Select(f => f.LastWriteTimeUtc)
                .Append(Directory.GetLastWriteTimeUtc(entry)).Max();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return DateTime.UtcNow; }
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

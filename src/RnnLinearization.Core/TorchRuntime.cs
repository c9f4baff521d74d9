using TorchSharp;

namespace RnnLinearization.Core;

/// <summary>The one place that makes sure libtorch is loaded, and turns a failure into a clear error.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _loaded;

    /// <summary>
    /// Threads for the computations of this process: libtorch's intra-op threads. Defaults to libtorch's choice.
    /// </summary>
    public static int Threads
    {
        get { EnsureLoaded(); return _threads > 0 ? _threads : torch.get_num_threads(); }
        set
        {
            if (value < 1)
                throw new RnnException("InvalidThreadCount", RnnErrorKind.InvalidArgument, $"The thread count must be at least 1, not {value}.");
            EnsureLoaded();
            _threads = value;
            torch.set_num_threads(value);
        }
    }

    private static volatile int _threads;   // 0 until set: libtorch's choice

    /// <summary>
    /// Gives the calling thread the configured thread count. OpenMP keeps the count per thread, so a thread that
    /// existed before the count was last set (the module's workers) would go on with the old one.
    /// </summary>
    public static void UseConfiguredThreads()
    {
        int threads = _threads;
        if (threads > 0 && torch.get_num_threads() != threads) torch.set_num_threads(threads);
    }

    /// <summary>State sizes below which a long sequence of steps runs on one thread (see <see cref="SequentialSteps"/>).</summary>
    public const int SmallStateSize = 128;

    /// <summary>
    /// For a long sequence of small libtorch calls (trajectories, Lyapunov spectra, continuation, graph runs at state
    /// sizes below <see cref="SmallStateSize"/>): the calling thread runs on one thread until the scope ends, since
    /// more only add waking and waiting. Measured on the 24-unit flip-flop, an idle 2-core machine: a Lyapunov run
    /// took 0.95-1.09 s on two threads and 0.33 s on one; on a busy machine the gap is larger. OpenMP keeps the count
    /// per thread, so other threads are not touched.
    /// </summary>
    public static IDisposable SequentialSteps(int stateSize)
    {
        EnsureLoaded();
        int before = torch.get_num_threads();
        if (stateSize >= SmallStateSize || before == 1) return NoScope.Instance;
        torch.set_num_threads(1);
        return new RestoreThreads(before);
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();
        public void Dispose() { }
    }

    private sealed class RestoreThreads(int threads) : IDisposable
    {
        public void Dispose() => torch.set_num_threads(threads);
    }

    /// <summary>
    /// OpenMP's worker threads spin while they wait for work (libgomp's default, read when libtorch loads it): on a busy
    /// machine (array jobs sharing a node, another process on a core) they spin against the others, and a fixed-point
    /// search on two threads took 1.35 s instead of 0.43 s beside one busy loop on a 2-core machine (a user saw 35 s for
    /// 0.7 s). Waiting passively measured the same when the machine was idle. A setting of the user's own wins.
    /// </summary>
    private static void WaitPassively()
    {
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        try { SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0); }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { }   // no libc setenv: OpenMP's default
    }

    // .NET keeps its own copy of the environment on Unix; libgomp reads the C library's.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
                WaitPassively();
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception ex)
            {
                throw new RnnException("TorchNativeLoadFailed", RnnErrorKind.ResourceUnavailable,
                    "libtorch could not be loaded (TorchSharp natives). The module folder must hold libLibTorchSharp.so " +
                    "and libtorch*.so next to the dll; rebuild with ./build.ps1 -Task Build. Cause: " +
                    (ex.InnerException?.Message ?? ex.Message), ex);
            }
            _loaded = true;
        }
    }
}

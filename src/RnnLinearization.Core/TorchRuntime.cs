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
        get { EnsureLoaded(); return torch.get_num_threads(); }
        set
        {
            if (value < 1)
                throw new RnnException("InvalidThreadCount", RnnErrorKind.InvalidArgument, $"The thread count must be at least 1, not {value}.");
            EnsureLoaded();
            torch.set_num_threads(value);
        }
    }

    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
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

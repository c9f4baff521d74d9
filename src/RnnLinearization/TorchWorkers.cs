using RnnLinearization.Core;

namespace RnnLinearization;

// The module's threading model, in one place:
// - Core work that can take long runs on these workers, through RnnCmdlet.Interruptible: the pipeline thread waits
//   and answers Ctrl+C (StopProcessing cancels the token), and the worker's piece ends at Core's next check.
// - Core checks its CancellationToken between pieces of bounded cost (a batch, an iteration, a step).
// - Models are read-only once loaded and are shared across threads; tensors never leave a piece (arrays go out).
// - libtorch's thread count is per OpenMP thread: each piece first takes the configured count
//   (TorchRuntime.UseConfiguredThreads); long sequences of small steps take one (TorchRuntime.SequentialSteps).

/// <summary>
/// The threads that run interruptible libtorch work: the same few every time, and the first idle one in a fixed
/// order, so work that comes one piece at a time always runs on the first. On thread-pool threads each new thread got
/// its own malloc arena (and OpenMP team), and a soak saw resident memory creep up by 400 MB before it levelled; with
/// two workers taking turns, both arenas grew.
/// </summary>
internal static class TorchWorkers
{
    private sealed class Worker
    {
        public readonly System.Collections.Concurrent.BlockingCollection<Action> Queue = new();
        public int Busy;   // 1 from when a piece is handed to it until it has run
    }

    private static readonly Worker[] Workers = Enumerable.Range(0, Math.Max(2, Environment.ProcessorCount)).Select(i =>
    {
        var worker = new Worker();
        new Thread(() =>
        {
            foreach (var work in worker.Queue.GetConsumingEnumerable())
            {
                work();
                if (worker.Queue.Count == 0) Volatile.Write(ref worker.Busy, 0);
            }
        }, 8 << 20) { IsBackground = true, Name = $"RnnLinearization worker {i}" }.Start();
        return worker;
    }).ToArray();

    public static Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Piece()
        {
            try
            {
                TorchRuntime.UseConfiguredThreads();
                done.SetResult(work());
            }
            catch (Exception ex) { done.SetException(ex); }
        }
        // The first idle worker; when all are busy (pieces left running by Stop), the first, after its piece.
        var chosen = Workers.FirstOrDefault(w => Interlocked.CompareExchange(ref w.Busy, 1, 0) == 0) ?? Workers[0];
        chosen.Queue.Add(Piece);
        return done.Task;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A fixed set of worker threads that run struct work items without allocating. Parallel.For allocates per call
// and schedules through the shared ThreadPool; kernels called thousands of times per forward pass want neither.
namespace HpcCore.Cpu;

/// <summary>
/// Runs <see cref="For{TBody}"/> jobs on <c>Threads - 1</c> dedicated workers plus the calling thread.
/// Jobs from different threads (and pools) are serialised; a job started from inside a job runs inline.
/// </summary>
public sealed class CpuWorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _start;
    // Shared by all pools: the per-type job slot below is static, so jobs of different pools must not overlap.
    private static readonly Lock JobGate = new();
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private Action<int>? _job;
    private int _count;
    private int _next;
    private int _active;
    private Exception? _failure;
    private volatile bool _stopping;

    [ThreadStatic]
    private static bool t_insideJob;

    /// <summary>Creates a pool using <paramref name="threads"/> threads in all (the caller counts as one).</summary>
    public CpuWorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _start = new SemaphoreSlim(0);
        _workers = new Thread[Threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"hpccore-cpu-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that execute work, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <c>body.Invoke(i)</c> for every i in [0, <paramref name="count"/>) and waits for all of them.</summary>
    public void For<TBody>(int count, in TBody body) where TBody : struct, IParallelBody
    {
        if (count <= 0) return;
        if (count == 1 || _workers.Length == 0 || t_insideJob)
        {
            var local = body;
            for (int i = 0; i < count; i++) local.Invoke(i);
            return;
        }
        lock (JobGate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            Job<TBody>.Body = body;
            _job = Job<TBody>.Run;
            _failure = null;
            _count = count;
            _next = 0;
            int helpers = Math.Min(_workers.Length, count - 1);
            _active = helpers + 1;
            _done.Reset();
            _start.Release(helpers);
            Work();
            _done.Wait();
            _job = null;
            Job<TBody>.Body = default;
            if (_failure is { } e) throw new AggregateException("CpuWorkerPool: a work item failed.", e);
        }
    }

    private void Work()
    {
        t_insideJob = true;
        try
        {
            var job = _job!;
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                try
                {
                    job(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }
            }
        }
        finally
        {
            t_insideJob = false;
            if (Interlocked.Decrement(ref _active) == 0) _done.Set();
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            Work();
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        lock (JobGate)
        {
            if (_stopping) return;
            _stopping = true;
        }
        if (_workers.Length > 0) _start.Release(_workers.Length);
        foreach (var w in _workers) w.Join();
        _start.Dispose();
        _done.Dispose();
    }

    // One static slot per body type: the delegate is created once per type, and the body is copied in per job.
    private static class Job<TBody> where TBody : struct, IParallelBody
    {
        public static TBody Body;
        public static readonly Action<int> Run = static i => Body.Invoke(i);
    }
}

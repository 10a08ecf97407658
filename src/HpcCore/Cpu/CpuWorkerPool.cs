// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A fixed set of worker threads that run struct work items without allocating. Parallel.For allocates per call
// and schedules through the shared ThreadPool; kernels called thousands of times per forward pass want neither.
//
// Waking a parked thread costs 1-4 ms on the virtual machines we run on, longer than a whole 197x768x2304 GEMM
// takes on two cores. So, like ONNX Runtime's pool, a worker spins for a short while after each job before it
// parks, and back-to-back kernels find it awake.
//
// The caller waits only for items that a worker has claimed, never for a worker to show up: on a loaded machine
// (issue #4) a worker may not be scheduled for a whole time slice, and a job of tiny items (ToMe's 197-token steps)
// used to wait that long for it. Items are claimed by a compare-exchange on one 64-bit word holding the job's
// generation and the next index, so a late worker can never claim an item of a newer job; the caller closes a
// finished job (index = int.MaxValue) before it writes the next one.
//
// What the caller cannot avoid is a worker that claimed an item and was then preempted: on an oversubscribed machine
// (load 10 on two cores) every such job waits most of a time slice, and a batch-1 ViT forward ran at half its
// one-thread speed. So the pool watches for it: when the caller waits on claimed items for longer than it worked
// itself (and longer than LateTicks), the next jobs run inline for a back-off that doubles while workers stay late
// (2 to 64 ms), then the pool tries its workers again. A quiet machine never triggers it.
using System.Diagnostics;

namespace HpcCore.Cpu;

/// <summary>
/// Runs <see cref="For{TBody}"/> jobs on <c>Threads - 1</c> dedicated workers plus the calling thread.
/// Jobs from different threads (and pools) are serialised; a job started from inside a job runs inline.
/// </summary>
public sealed class CpuWorkerPool : IDisposable
{
    // Shared by all pools: the per-type job slot below is static, so jobs of different pools must not overlap.
    private static readonly Lock JobGate = new();

    private readonly Worker[] _workers;
    private readonly long _spinTicks;
    private Action<int>? _job;
    private int _count;
    private int _done;
    // High 32 bits: the generation of the current job; low 32 bits: its next unclaimed item (int.MaxValue: closed).
    // The generation wraps around (unchecked int): a long-running process runs billions of jobs.
    private long _state = StateOf(0, int.MaxValue);
    private Exception? _failure;
    private volatile bool _stopping;
    // Back-off after late workers (see the file header): jobs run inline until _inlineUntil (a Stopwatch timestamp).
    private long _inlineUntil;
    private int _lateStreak;
    // Workers spin at least until this Stopwatch timestamp (Prewake).
    private long _spinUntil;
    private static readonly long LateTicks = Stopwatch.Frequency / 10_000;
    private readonly long _backOffTicks;
    private const int MaxBackOffDoublings = 5;

    [ThreadStatic]
    private static bool t_insideJob;

    /// <summary>
    /// Creates a pool using <paramref name="threads"/> threads in all (the caller counts as one). Idle workers spin
    /// for <paramref name="spinMicroseconds"/> after each job before parking. After a job whose workers were late,
    /// jobs run inline for <paramref name="backOffMicroseconds"/>, doubled while they stay late (see
    /// <see cref="BackingOff"/>).
    /// </summary>
    public CpuWorkerPool(int threads, int spinMicroseconds = 500, int backOffMicroseconds = 2000)
    {
        Threads = Math.Max(1, threads);
        _spinTicks = Stopwatch.Frequency * Math.Max(0, spinMicroseconds) / 1_000_000;
        _backOffTicks = Stopwatch.Frequency * Math.Max(0, backOffMicroseconds) / 1_000_000;
        _workers = new Worker[Threads - 1];
        if (_workers.Length > 0) RunStartupClassConstructors();
        for (int i = 0; i < _workers.Length; i++)
        {
            var w = new Worker();
            _workers[i] = w;
            w.Thread = new Thread(() => WorkerLoop(w)) { IsBackground = true, Name = $"hpccore-cpu-{i + 1}" };
            w.Thread.Start();
        }
    }

    // NativeAOT (the C library, issue #7): a starting thread encodes its name through UTF8Encoding. When the caller runs
    // UTF8Encoding's class constructor at that moment, the two contend for it, the runtime's lazy Lock set-up reads an
    // environment variable through the same half-built encoding and dereferences null: the process aborted in about
    // one first call in twenty (native/c/test_startup.c, run 300 times by CTest). Running the class constructor here,
    // before any worker exists, closes the window; under the JIT this is a no-op.
    private static void RunStartupClassConstructors() => _ = System.Text.Encoding.UTF8.GetByteCount("hpccore");

    /// <summary>Threads that execute work, the caller included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Threads a job started now from this thread runs on: 1 inside a job, in a serial scope or while backing off (the
    /// job runs inline), else <see cref="Threads"/>. Kernels size their work split by it: a split made for two
    /// threads and run inline cost a batch-1 ViT forward 3% against the one-thread split.
    /// </summary>
    public int ActiveThreads => t_insideJob || BackingOff ? 1 : Threads;

    /// <summary>Runs <c>body.Invoke(i)</c> for every i in [0, <paramref name="count"/>) and waits for all of them.</summary>
    public void For<TBody>(int count, in TBody body) where TBody : struct, IParallelBody
    {
        if (count <= 0) return;
        if (count == 1 || _workers.Length == 0 || t_insideJob || Stopwatch.GetTimestamp() < Volatile.Read(ref _inlineUntil))
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
            _done = 0;
            int generation = unchecked(GenerationOf(Volatile.Read(ref _state)) + 1);
            long start = Stopwatch.GetTimestamp();
            Publish(StateOf(generation, 0));
            Work(generation);
            long worked = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != count) spin.SpinOnce(sleep1Threshold: -1);
            long waited = Stopwatch.GetTimestamp();
            BackOffIfLate(worked - start, waited - worked, waited);
            Interlocked.Exchange(ref _state, StateOf(generation, int.MaxValue));
            _job = null;
            Job<TBody>.Body = default;
            if (_failure is { } e) throw new AggregateException("CpuWorkerPool: a work item failed.", e);
        }
    }

    /// <summary>
    /// Wakes the parked workers without waiting for them and keeps every worker spinning for
    /// <paramref name="spinFor"/> (instead of the usual spin after a job), so that jobs started within that time find
    /// them awake. The caller does not wait: a worker that wakes late just joins late.
    /// </summary>
    public void Prewake(TimeSpan spinFor)
    {
        long until = Stopwatch.GetTimestamp() + (long)(Math.Clamp(spinFor.TotalSeconds, 0, MaxPrewake.TotalSeconds) * Stopwatch.Frequency);
        long current = Volatile.Read(ref _spinUntil);
        while (until > current)
        {
            long seen = Interlocked.CompareExchange(ref _spinUntil, until, current);
            if (seen == current) break;
            current = seen;
        }
        WakeParked();
    }

    /// <summary>Workers parked now (waiting for a wake-up rather than spinning); for tests and diagnostics.</summary>
    internal int ParkedWorkers => _workers.Count(w => w.IsParked);

    /// <summary>The longest <see cref="Prewake"/> keeps workers spinning.</summary>
    public static readonly TimeSpan MaxPrewake = TimeSpan.FromMilliseconds(50);

    /// <summary>Whether jobs started now would run inline because workers were late (see the file header).</summary>
    public bool BackingOff => Stopwatch.GetTimestamp() < Volatile.Read(ref _inlineUntil);

    // The caller worked for `worked` ticks, then waited `waited` ticks for items the workers had claimed.
    private void BackOffIfLate(long worked, long waited, long now)
    {
        if (waited <= Math.Max(worked, LateTicks))
        {
            _lateStreak = 0;
            return;
        }
        int doublings = Math.Min(_lateStreak++, MaxBackOffDoublings);
        Volatile.Write(ref _inlineUntil, now + (_backOffTicks << doublings));
    }

    // Announce a new generation; wake the workers that parked. The full fences here and in WorkerLoop
    // (Dekker-style) guarantee that a worker either sees the new generation or is seen as parked.
    private void Publish(long state)
    {
        Interlocked.Exchange(ref _state, state);
        WakeParked();
    }

    private void WakeParked()
    {
        foreach (var w in _workers)
            if (w.IsParked) w.Wake.Set();
    }

    // Claims and runs items of job `generation` until none is left. The count is read before the claim: a successful
    // compare-exchange proves the job was still open, so the count read belonged to it.
    private void Work(int generation)
    {
        t_insideJob = true;
        try
        {
            while (true)
            {
                long s = Volatile.Read(ref _state);
                int i = (int)s;
                if (GenerationOf(s) != generation || i >= Volatile.Read(ref _count)) return;
                if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
                try
                {
                    _job!(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }
                Interlocked.Increment(ref _done);
            }
        }
        finally
        {
            t_insideJob = false;
        }
    }

    /// <summary>
    /// Makes every job started from this thread run inline until <see cref="ExitSerial"/>; false (and nothing
    /// changed) when this thread already runs inline. See <see cref="Devices.WorkScope"/>.
    /// </summary>
    internal static bool EnterSerial()
    {
        if (t_insideJob) return false;
        t_insideJob = true;
        return true;
    }

    /// <summary>Whether jobs started from this thread run inline now (inside a job or a serial scope).</summary>
    internal static bool InlineOnThisThread => t_insideJob;

    /// <summary>Ends what a successful <see cref="EnterSerial"/> began.</summary>
    internal static void ExitSerial() => t_insideJob = false;

    private static long StateOf(int generation, int next) => ((long)generation << 32) | (uint)next;

    private static int GenerationOf(long state) => (int)(state >> 32);

    private void WorkerLoop(Worker w)
    {
        int seen = 0;
        while (true)
        {
            long deadline = Math.Max(Stopwatch.GetTimestamp() + _spinTicks, Volatile.Read(ref _spinUntil));
            while (GenerationOf(Volatile.Read(ref _state)) == seen && !_stopping && Stopwatch.GetTimestamp() < deadline)
                Thread.SpinWait(16);
            if (GenerationOf(Volatile.Read(ref _state)) == seen && !_stopping)
            {
                w.Wake.Reset();
                Interlocked.Exchange(ref w.Parked, 1);
                if (GenerationOf(Volatile.Read(ref _state)) == seen && !_stopping) w.Wake.Wait();
                Interlocked.Exchange(ref w.Parked, 0);
            }
            if (_stopping) return;
            int current = GenerationOf(Volatile.Read(ref _state));
            if (current == seen) continue;
            seen = current;
            Work(current);
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
        foreach (var w in _workers) w.Wake.Set();
        foreach (var w in _workers)
        {
            w.Thread!.Join();
            w.Dispose();
        }
    }

    private sealed class Worker : IDisposable
    {
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public Thread? Thread;
        public int Parked;

        public bool IsParked => Volatile.Read(ref Parked) != 0;

        public void Dispose() => Wake.Dispose();
    }

    // One static slot per body type: the delegate is created once per type, and the body is copied in per job.
    private static class Job<TBody> where TBody : struct, IParallelBody
    {
        public static TBody Body;
        public static readonly Action<int> Run = static i => Body.Invoke(i);
    }
}

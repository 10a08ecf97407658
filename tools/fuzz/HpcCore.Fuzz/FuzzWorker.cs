// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Diagnostics;

/// <summary>
/// Runs one input at a time on its own thread, so the caller can time it out: a thread stuck in an endless loop
/// cannot be stopped in .NET, so a worker that overruns is abandoned (and reported) and a fresh one takes over.
/// Measures each input's wall time and the bytes it allocated on the managed heap.
/// </summary>
// Not IDisposable: an abandoned worker's thread may still be running and signalling its semaphores.
#pragma warning disable CA1001
internal sealed class FuzzWorker
#pragma warning restore CA1001
{
    private readonly SemaphoreSlim _start = new(0), _done = new(0);
    private Action? _job;

    public FuzzWorker()
    {
        new Thread(Loop) { IsBackground = true, Name = "fuzz-worker" }.Start();
    }

    public Exception? Error { get; private set; }

    public long Allocated { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    /// <summary>CPU time the worker thread spent on the input (Linux; the wall time elsewhere): on a loaded machine
    /// the wall time includes waiting for a core, which says nothing about the parser.</summary>
    public TimeSpan CpuTime { get; private set; }

    /// <summary>Starts <paramref name="job"/>; <see cref="Wait"/> for it.</summary>
    public void Run(Action job)
    {
        _job = job;
        _start.Release();
    }

    /// <summary>True when the job finished within <paramref name="timeout"/>.</summary>
    public bool Wait(TimeSpan timeout) => _done.Wait(timeout);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static TimeSpan? ThreadCpu()
    {
        const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
        if (!OperatingSystem.IsLinux() || ClockGetTime(ClockThreadCpuTime, out var t) != 0) return null;
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }

    private void Loop()
    {
        while (true)
        {
            _start.Wait();
            Error = null;
            long before = GC.GetAllocatedBytesForCurrentThread();
            var cpu0 = ThreadCpu();
            var clock = Stopwatch.StartNew();
            try
            {
                _job!();
            }
            catch (Exception e)
            {
                Error = e;
            }
            Elapsed = clock.Elapsed;
            CpuTime = cpu0 is { } c0 && ThreadCpu() is { } c1 ? c1 - c0 : Elapsed;
            Allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            _done.Release();
        }
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Cpu;

using HpcCore.Cpu;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class CpuWorkerPoolTests
{
    private struct CountBody : IParallelBody
    {
        public int[] Hits;

        public readonly void Invoke(int index) => Interlocked.Increment(ref Hits[index]);
    }

    private struct NestedBody : IParallelBody
    {
        public CpuWorkerPool Pool;
        public int[] Hits;

        public readonly void Invoke(int index)
        {
            var inner = new CountBody { Hits = Hits };
            Pool.For(Hits.Length, inner); // runs inline inside a job
        }
    }

    private struct ThrowingBody : IParallelBody
    {
        public readonly void Invoke(int index)
        {
            if (index == 3) throw new InvalidOperationException("boom");
        }
    }

    // Stands in for a preempted worker: an item run off the calling thread takes 100 ms, one on the caller 50 us.
    private struct LateWorkerBody : IParallelBody
    {
        public int Caller;
        public int[] RanOn;

        public readonly void Invoke(int index)
        {
            bool onCaller = Environment.CurrentManagedThreadId == Caller;
            RanOn[index] = Environment.CurrentManagedThreadId;
            if (!onCaller)
            {
                Thread.Sleep(100);
                return;
            }
            long until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 20_000;
            while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
        }
    }

    private static (LateWorkerBody Body, int[] RanOn) LateJob()
    {
        var ranOn = new int[64];
        return (new LateWorkerBody { Caller = Environment.CurrentManagedThreadId, RanOn = ranOn }, ranOn);
    }

    [Fact]
    public void For_AfterAJobWhoseWorkerWasLate_RunsInlineUntilTheBackOffEnds()
    {
        using var pool = new CpuWorkerPool(2, backOffMicroseconds: 60_000_000);
        int caller = Environment.CurrentManagedThreadId;
        // The worker claims an item within the caller's 64 x 50 us unless it never wakes (or the caller is preempted
        // for longer than the worker's 100 ms item); a few tries cover that.
        bool workerRan = false;
        for (int attempt = 0; attempt < 8 && !pool.BackingOff; attempt++)
        {
            var (body, ranOn) = LateJob();
            pool.For(ranOn.Length, body);
            workerRan |= ranOn.Any(t => t != caller);
        }
        Assert.True(workerRan, "no worker ever claimed an item");
        Assert.True(pool.BackingOff, "a worker ran items for 100 ms each and the pool did not back off");
        var (next, nextRanOn) = LateJob();
        pool.For(nextRanOn.Length, next);
        Assert.All(nextRanOn, t => Assert.Equal(caller, t));
    }

    [Fact]
    public void For_BackOffExpires_AndTheWorkersAreUsedAgain()
    {
        using var pool = new CpuWorkerPool(2, backOffMicroseconds: 1000);
        for (int attempt = 0; attempt < 5 && !pool.BackingOff; attempt++)
        {
            var (body, ranOn) = LateJob();
            pool.For(ranOn.Length, body);
        }
        Thread.Sleep(50); // past the back-off (1 ms, doubled at most 5 times: 32 ms)
        Assert.False(pool.BackingOff);
        bool workerRan = false;
        for (int round = 0; round < 100 && !workerRan; round++)
        {
            var (body, ranOn) = LateJob();
            pool.For(ranOn.Length, body);
            workerRan = ranOn.Any(t => t != Environment.CurrentManagedThreadId);
            Thread.Sleep(50);
        }
        Assert.True(workerRan, "no job reached a worker after the back-off ended");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 1000)]
    public void For_RunsEveryIndexExactlyOnce(int threads, int count)
    {
        using var pool = new CpuWorkerPool(threads);
        for (int round = 0; round < 20; round++)
        {
            var hits = new int[count];
            pool.For(count, new CountBody { Hits = hits });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    // Back-to-back jobs of changing sizes: a worker that arrives late must never claim an item of a newer job
    // (claims carry the job's generation), so every index of every job runs exactly once.
    [Fact]
    public void For_BackToBackJobs_EachIndexRunsOnceInItsOwnJob()
    {
        using var pool = new CpuWorkerPool(3, spinMicroseconds: 0, backOffMicroseconds: 0);
        for (int job = 0; job < 2000; job++)
        {
            var hits = new int[1 + job % 9];
            pool.For(hits.Length, new CountBody { Hits = hits });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void For_AcrossTheGenerationWrapAround_RunsEveryItemOnce()
    {
        using var pool = new CpuWorkerPool(3, spinMicroseconds: 0, backOffMicroseconds: 0);
        // A long-running process eventually passes int.MaxValue jobs; start just below it instead of running them.
        var state = typeof(CpuWorkerPool).GetField("_state", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        state.SetValue(pool, ((long)(int.MaxValue - 3) << 32) | int.MaxValue);
        for (int job = 0; job < 12; job++)
        {
            var hits = new int[7];
            pool.For(hits.Length, new CountBody { Hits = hits });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void For_NestedInsideAJob_RunsInline()
    {
        using var pool = new CpuWorkerPool(2);
        var hits = new int[5];
        pool.For(4, new NestedBody { Pool = pool, Hits = hits });
        Assert.All(hits, h => Assert.Equal(4, h));
    }

    [Fact]
    public void For_PropagatesAFailure_AndStaysUsable()
    {
        using var pool = new CpuWorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.For(10, new ThrowingBody()));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var hits = new int[10];
        pool.For(10, new CountBody { Hits = hits });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    // A try of the pool after serial units (SplitChooser) must not be timed with a wake-up: Prewake wakes parked workers
    // and keeps them spinning past their usual spin (here none), then lets them park again.
    [Fact]
    public void Prewake_WakesParkedWorkers_AndKeepsThemSpinningForTheTimeAsked()
    {
        using var pool = new CpuWorkerPool(3, spinMicroseconds: 0);
        pool.For(8, new CountBody { Hits = new int[8] });
        Assert.True(WaitFor(() => pool.ParkedWorkers == 2), "workers with no spin should park after a job");
        var sincePrewake = System.Diagnostics.Stopwatch.StartNew();
        pool.Prewake(TimeSpan.FromSeconds(1)); // clamped to MaxPrewake (50 ms)
        Assert.True(WaitFor(() => pool.ParkedWorkers == 0), "prewake should wake both parked workers");
        Thread.Sleep(20);
        int parked = pool.ParkedWorkers;
        // Still spinning (without Prewake's spin they park at once), unless this thread itself was held up past it.
        if (sincePrewake.Elapsed < CpuWorkerPool.MaxPrewake - TimeSpan.FromMilliseconds(5)) Assert.Equal(0, parked);
        Assert.True(WaitFor(() => pool.ParkedWorkers == 2), "workers should park again after the prewake spin");
        var hits = new int[8];
        pool.For(8, new CountBody { Hits = hits });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    private static bool WaitFor(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(5)) return false;
            Thread.Sleep(1);
        }
        return true;
    }

    [Fact]
    public void For_AllocatesNothingInSteadyState()
    {
        using var pool = new CpuWorkerPool(2);
        var body = new CountBody { Hits = new int[64] };
        SteadyState.AssertAllocatesNothing(null, () => pool.For(64, body), steps: 100);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A small unit of work runs on the calling thread alone (issue #18 item 4): the scope, the CPU backend's thresholds,
// and a model session that uses them.
namespace HpcCore.Tests.Cpu;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using Xunit;

public sealed class WorkScopeTests
{
    private struct ThreadBody : IParallelBody
    {
        public int[] RanOn;

        public readonly void Invoke(int index)
        {
            RanOn[index] = Environment.CurrentManagedThreadId;
            Thread.SpinWait(2000);
        }
    }

    private static int[] RunJob(CpuWorkerPool pool, int items = 256)
    {
        var ranOn = new int[items];
        pool.For(items, new ThreadBody { RanOn = ranOn });
        return ranOn;
    }

    [Fact]
    public void SerialScope_RunsEveryItemOnTheCaller_AndNests()
    {
        using var pool = new CpuWorkerPool(2, backOffMicroseconds: 0);
        int caller = Environment.CurrentManagedThreadId;
        using (var outer = WorkScope.SerialOnThisThread())
        {
            Assert.True(outer.Serial);
            using (var inner = WorkScope.SerialOnThisThread())
                Assert.False(inner.Serial); // already serial: the inner scope must not end the outer one
            Assert.All(RunJob(pool), t => Assert.Equal(caller, t));
        }
        // Outside the scope the worker takes part again (it may need a few jobs to wake up).
        bool workerRan = false;
        for (int i = 0; i < 200 && !workerRan; i++) workerRan = RunJob(pool).Any(t => t != caller);
        Assert.True(workerRan);
    }

    // Kernels split their work by ActiveThreads: a job that will run inline is split for one thread, not for the pool.
    [Fact]
    public void ActiveThreads_IsOne_WhereJobsRunInline()
    {
        using var pool = new CpuWorkerPool(2, backOffMicroseconds: 0);
        Assert.Equal(2, pool.ActiveThreads);
        using (WorkScope.SerialOnThisThread())
            Assert.Equal(1, pool.ActiveThreads);
        Assert.Equal(2, pool.ActiveThreads);
        var seen = new int[64];
        pool.For(seen.Length, new ActiveThreadsBody { Pool = pool, Seen = seen });
        Assert.All(seen, n => Assert.Equal(1, n)); // nested jobs run inline, on any thread
        using var single = new CpuWorkerPool(1);
        Assert.Equal(1, single.ActiveThreads);
    }

    private struct ActiveThreadsBody : IParallelBody
    {
        public CpuWorkerPool Pool;
        public int[] Seen;

        public readonly void Invoke(int index) => Seen[index] = Pool.ActiveThreads;
    }

    [Theory]
    [InlineData(WorkSplitting.Serial, 2, true)]
    [InlineData(WorkSplitting.Pooled, 2, false)]
    [InlineData(WorkSplitting.Serial, 1, false)] // one thread: nothing to keep off the pool
    public void CpuBackend_BeginWork_FollowsAFixedSplitting(WorkSplitting splitting, int threads, bool serial)
    {
        using var cpu = new CpuBackend(threads) { Splitting = splitting };
        using var scope = cpu.BeginWork(1e6, 1e5);
        Assert.Equal(serial, scope.Serial);
    }

    // Adaptive: the first units use the pool, then both ways alternate until each has a window of times; a unit too
    // large to try on one thread always uses the pool.
    [Fact]
    public void CpuBackend_BeginWork_Adaptive_TriesBothWays_AndPoolsHugeUnits()
    {
        using var cpu = new CpuBackend(2);
        Assert.Equal(WorkSplitting.Adaptive, cpu.Splitting);
        var ways = new List<bool>();
        // Two cold units (not recorded), then five of each way alternately.
        for (int i = 0; i < 2 + 2 * SplitChooser.Window; i++)
        {
            using var scope = cpu.BeginWork(1e6, 0);
            ways.Add(scope.Serial);
        }
        Assert.False(ways[0]);
        Assert.Equal(SplitChooser.Window, ways.Count(w => w));
        using var huge = cpu.BeginWork(CpuBackend.AlwaysPooledCost, 0);
        Assert.False(huge.Serial);
    }

    // A unit begun inside a serial scope runs inline anyway; it is neither timed nor counted for either way.
    [Fact]
    public void CpuBackend_BeginWork_InsideASerialScope_IsNotTimed()
    {
        using var cpu = new CpuBackend(2);
        using (WorkScope.SerialOnThisThread())
            for (int i = 0; i < 50; i++)
                using (cpu.BeginWork(1e6, 0)) { }
        // Had those 50 been recorded, the warm-up would be over; it starts from the beginning instead (cold, then pooled).
        var ways = new List<bool>();
        for (int i = 0; i < 4; i++)
        {
            using var scope = cpu.BeginWork(1e6, 0);
            ways.Add(scope.Serial);
        }
        Assert.Equal([false, false, false, true], ways);
    }

    // The session puts its whole forward in the scope: the same logits as a forward that uses the pool, bit for bit
    // (every kernel splits work by output rows, so no sum changes order), and the calling thread is free again after.
    [Fact]
    public void VitSession_SmallForward_RunsSerial_WithTheSameLogits()
    {
        // 257 tokens of width 128: its GEMMs and attention are each large enough to use the pool when allowed.
        var config = new VitConfig(32, 2, 1, Dim: 128, Depth: 2, Heads: 4, MlpHidden: 256, Classes: 10, 1e-6f, [0.5f], [0.25f]);
        using var serialCpu = new CpuBackend(2) { Splitting = WorkSplitting.Serial };
        using var pooledCpu = new CpuBackend(2) { Splitting = WorkSplitting.Pooled };
        using var w1 = VitWeightsLoader.Random(config, serialCpu, seed: 3);
        using var w2 = VitWeightsLoader.Random(config, pooledCpu, seed: 3);
        using var s1 = new VitSession(w1, batch: 1);
        using var s2 = new VitSession(w2, batch: 1);
        var pixels = TestData.Normal(32 * 32, 5);
        var serial = s1.Forward(pixels).ToArray<float>();
        var pooled = s2.Forward(pixels).ToArray<float>();
        Assert.Equal(pooled, serial);
        using var after = WorkScope.SerialOnThisThread();
        Assert.True(after.Serial, "the session's scope was left open");
    }
}

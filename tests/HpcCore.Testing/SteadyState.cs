// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The steady-state rule (inference allocates nothing once warm) as one assertion for every test that checks it.
namespace HpcCore.Testing;

using HpcCore.Cpu;
using Xunit;

/// <summary>Asserts that a repeated step allocates no managed bytes and rents no fresh pool buffers.</summary>
public static class SteadyState
{
    /// <summary>
    /// Runs <paramref name="step"/> <paramref name="warmup"/> times (past tiered JIT's promotion: call counting and
    /// the background re-JIT allocate while they run), then windows of <paramref name="steps"/> more, during which
    /// neither the calling thread's managed allocations nor <paramref name="cpu"/>'s fresh pool buffers may grow (in
    /// at least one of six windows). <paramref name="prepare"/>, when given, runs before each window, unmeasured.
    /// </summary>
    public static void AssertAllocatesNothing(CpuBackend? cpu, Action step, int warmup = 100, int steps = 20, Action? prepare = null)
    {
        for (int i = 0; i < warmup; i++) step();
        // A step that allocates does so in every window; the runtime's own tier-up work (late on a loaded machine:
        // a Tier-1 promotion landing inside a window has been seen to add ~6.5 KB once) does not recur. So a clean
        // window among a few passes, and every window's numbers are reported when none is clean. Between windows the
        // test yields the core for a moment, so that a background tier-up starved by a loaded machine can finish (a
        // full test run at load average 20+ once saw all four windows hit).
        var windows = new List<(long Bytes, long Fresh)>();
        for (int attempt = 0; attempt < 6; attempt++)
        {
            if (attempt > 0) Thread.Sleep(100);
            prepare?.Invoke();
            long fresh = cpu?.Memory.FreshAllocations ?? 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < steps; i++) step();
            var window = (GC.GetAllocatedBytesForCurrentThread() - before, (cpu?.Memory.FreshAllocations ?? 0) - fresh);
            if (window == (0, 0)) return;
            windows.Add(window);
        }
        Assert.Fail($"every window of {steps} steps allocated (managed bytes, fresh pool buffers): {string.Join(", ", windows)}");
    }
}

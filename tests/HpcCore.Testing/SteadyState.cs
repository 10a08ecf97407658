// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The steady-state rule (inference allocates nothing once warm) as one assertion for every test that checks it.
namespace HpcCore.Testing;

using HpcCore.Cpu;
using Xunit;

/// <summary>Asserts that a repeated step allocates no managed bytes and rents no fresh pool buffers.</summary>
public static class SteadyState
{
    /// <summary>
    /// Runs <paramref name="step"/> 100 times to warm up (past tiered JIT's promotion: call counting and the
    /// background re-JIT allocate while they run), then 20 times more, during which neither the calling thread's
    /// managed allocations nor <paramref name="cpu"/>'s fresh pool buffers may grow.
    /// </summary>
    public static void AssertAllocatesNothing(CpuBackend cpu, Action step)
    {
        for (int i = 0; i < 100; i++) step();
        long fresh = cpu.Memory.FreshAllocations;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) step();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(fresh, cpu.Memory.FreshAllocations);
    }
}

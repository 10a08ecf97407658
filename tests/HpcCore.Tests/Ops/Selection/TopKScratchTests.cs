// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class TopKScratchTests
{
    [Fact]
    public void SmallK_OnALongRow_RentsScratchOfK_NotOfTheRow()
    {
        // Issue #21: a top-3 of a row took 6 uints (24 bytes) of scratch per element. The scratch is rented from the
        // backend's pool and returned, so the pool's retained bytes grow by exactly the scratch's size class.
        const int n = 100_000;
        using var cpu = new CpuBackend(threads: 1);
        using var scores = Tensor.From<float>(TestData.Normal(n, 7), new Shape(1, n), cpu);
        long before = cpu.Memory.RetainedBytes;
        var (values, indices) = TopK.Select(scores, 3);
        using (values)
        using (indices)
        {
            long scratch = cpu.Memory.RetainedBytes - before;
            Assert.InRange(scratch, 1, 1024);
        }
        // The radix path for a large k still works from its own (larger) scratch.
        long beforeLarge = cpu.Memory.RetainedBytes;
        using var half = TopK.Indices(scores, n / 2);
        Assert.True(cpu.Memory.RetainedBytes - beforeLarge >= 6L * n * sizeof(uint) - 1, "radix path scratch");
    }
}

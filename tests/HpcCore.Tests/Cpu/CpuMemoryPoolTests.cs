// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Cpu;

using HpcCore.Cpu;
using Xunit;

public sealed unsafe class CpuMemoryPoolTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(1000, 1024)]
    [InlineData(1025, 1280)]
    [InlineData(4097, 5120)]
    public void SizeClass_RoundsUpToQuarterPowersOfTwo(long request, long expected) =>
        Assert.Equal(expected, CpuMemoryPool.SizeClass(request));

    [Fact]
    public void SizeClass_WastesAtMostAQuarter()
    {
        for (long n = 1; n < 1 << 20; n = n * 3 / 2 + 1)
        {
            long c = CpuMemoryPool.SizeClass(n);
            Assert.True(c >= n && (c <= 64 || c <= n * 1.25 + 64), $"{n} -> {c}");
        }
    }

    [Fact]
    public void Rent_ReusesReturnedBuffers_Aligned_AndPreTouchedToZero()
    {
        using var pool = new CpuMemoryPool(1 << 20);
        byte* p = pool.Rent(1000, out long cap);
        Assert.Equal(0, (long)p % CpuMemoryPool.Alignment);
        for (int i = 0; i < cap; i++) Assert.Equal(0, p[i]);
        pool.Return(p, cap);
        byte* q = pool.Rent(900, out long cap2);
        Assert.Equal((nint)p, (nint)q);
        Assert.Equal(cap, cap2);
        Assert.Equal(1, pool.FreshAllocations);
        pool.Return(q, cap2);
        Assert.Equal(0, pool.LiveBuffers);
        Assert.Equal(cap, pool.RetainedBytes);
    }

    [Fact]
    public void Return_BeyondRetentionLimit_FreesInsteadOfPooling()
    {
        using var pool = new CpuMemoryPool(100);
        byte* p = pool.Rent(1000, out long cap);
        pool.Return(p, cap);
        Assert.Equal(0, pool.RetainedBytes);
    }
}

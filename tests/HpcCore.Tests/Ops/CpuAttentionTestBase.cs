// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared scaffolding of the CPU attention test classes: one two-thread backend per class, and every case checked
// against the double reference through both the fused kernels and the unfused variant.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Testing;

public abstract class CpuAttentionTestBase : IDisposable
{
    /// <summary>The backend every case runs on.</summary>
    protected CpuBackend Cpu { get; } = new(threads: 2);

    public void Dispose()
    {
        Cpu.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Checks <paramref name="c"/> with the fused kernels and with the unfused variant.</summary>
    protected void Check(AttentionCase c)
    {
        c.Check(Cpu, AttentionVariant.Fused);
        c.Check(Cpu, AttentionVariant.Unfused);
    }
}

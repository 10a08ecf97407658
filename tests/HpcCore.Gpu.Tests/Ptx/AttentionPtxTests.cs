// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused attention kernel compiles offline for SM_90 and uses what its design relies on: barriers between the
// shared-memory tile stages, shared memory itself, the hardware exp, and float atomics for KeyTotals.
namespace HpcCore.Gpu.Tests;

using HpcCore.Gpu.Kernels;

/// <summary>PTX of <see cref="AttentionFusedKernel"/> for SM_90.</summary>
public sealed class AttentionPtxTests(PtxFixture fixture) : IClassFixture<PtxFixture>
{
    private const string Name = "attention/fused";

    [Fact]
    public void FusedAttention_CompilesForSm90_WithBarriersSharedMemoryAndFastExp()
    {
        string ptx = fixture.Ptx(Name);
        Assert.Contains(".version 8.8", ptx, StringComparison.Ordinal);
        Assert.Contains(".target sm_80", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ld.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("st.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ex2.approx", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void FusedAttention_AddsKeyTotalsWithFloatAtomics() =>
        Assert.Matches(@"(red|atom)(\.global)?\.add(\.global)?\.f32", fixture.Ptx(Name));

    [Fact]
    public void FusedAttention_SoftCapAvoidsTheCoarseHardwareTanh() =>
        // tanh.approx.f32 has a relative error of about 2^-11, far above Tolerance.GpuF32 once scaled by the cap.
        Assert.DoesNotContain("tanh.approx", fixture.Ptx(Name), StringComparison.Ordinal);
}

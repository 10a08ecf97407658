// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The attention kernels compile offline for SM_90 and use what their design relies on: barriers between the
// shared-memory tile stages, shared memory itself, the hardware exp, float atomics for KeyTotals; F16 operands widened
// by the native cvt.f32.f16 and rounded with integer ops only; the split-decode combine and KeyMeans kernels.
namespace HpcCore.Gpu.Tests;

using HpcCore.Gpu.Kernels;

/// <summary>PTX of the attention kernels for SM_90.</summary>
public sealed class AttentionPtxTests(PtxFixture fixture) : IClassFixture<PtxFixture>
{
    public static TheoryData<string> DTypes => new("f32", "f16", "bf16");

    [Theory]
    [MemberData(nameof(DTypes))]
    public void FusedAttention_CompilesForSm90_WithBarriersSharedMemoryAndFastExp(string dtype)
    {
        string ptx = fixture.Ptx("attention/fused/" + dtype);
        Assert.Contains(".version 8.8", ptx, StringComparison.Ordinal);
        Assert.Contains(".target sm_80", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ld.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("st.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ex2.approx", ptx, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void FusedAttention_AddsKeyTotalsWithFloatAtomics(string dtype) =>
        Assert.Matches(@"(red|atom)(\.global)?\.add(\.global)?\.f32", fixture.Ptx("attention/fused/" + dtype));

    [Theory]
    [MemberData(nameof(DTypes))]
    public void FusedAttention_SoftCapAvoidsTheCoarseHardwareTanh(string dtype) =>
        // tanh.approx.f32 has a relative error of about 2^-11, far above Tolerance.GpuF32 once scaled by the cap.
        Assert.DoesNotContain("tanh.approx", fixture.Ptx("attention/fused/" + dtype), StringComparison.Ordinal);

    [Theory]
    [InlineData("attention/fused/f16")]
    [InlineData("attention/keymeans/f16")]
    public void F16Kernels_WidenWithTheNativeConversion(string name) =>
        Assert.Contains("cvt.f32.f16", fixture.Ptx(name), StringComparison.Ordinal);

    [Theory]
    [InlineData("attention/fused/f16")]
    [InlineData("attention/combine/f16")]
    [InlineData("attention/fused/bf16")]
    [InlineData("attention/combine/bf16")]
    public void ReducedPrecisionOutputs_AreRoundedWithIntegerOpsAndStoredAs16Bits(string name)
    {
        string ptx = fixture.Ptx(name);
        Assert.Matches(@"st\.global\.[bu]16", ptx);
        Assert.DoesNotContain("cvt.rn.f16", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("cvt.rn.bf16", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void F32FusedAttention_HasNoConversions() =>
        Assert.DoesNotContain("cvt.f32.f16", fixture.Ptx("attention/fused/f32"), StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(DTypes))]
    public void SplitDecodeCombine_RescalesWithTheFastExp(string dtype)
    {
        string ptx = fixture.Ptx("attention/combine/" + dtype);
        Assert.Contains("ex2.approx", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("bar.sync", ptx, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void KeyMeans_IsAPlainElementwiseKernel(string dtype)
    {
        string ptx = fixture.Ptx("attention/keymeans/" + dtype);
        Assert.DoesNotContain("bar.sync", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain(".shared", ptx, StringComparison.Ordinal);
    }
}

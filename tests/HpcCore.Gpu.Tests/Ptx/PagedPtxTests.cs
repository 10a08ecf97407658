// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The paged KV kernels compile offline for SM_90 and use what their design relies on: the paged attention kernel is
// deterministic (no atomics at all), reduces with warp shuffles and barriers, stages the query row in shared memory,
// uses the hardware exp and keeps no stack frame; F16 pages are widened by cvt.f32.f16; the row moves round with
// integer ops only and store 16-bit elements as such.
namespace HpcCore.Gpu.Tests;

/// <summary>PTX of the paged attention and KV row kernels for SM_90.</summary>
public sealed class PagedPtxTests(PtxFixture fixture) : IClassFixture<PtxFixture>
{
    public static TheoryData<string> DTypes => new("f32", "f16", "bf16");

    [Theory]
    [MemberData(nameof(DTypes))]
    public void PagedAttention_HasNoAtomics_SoExportsAreDeterministic(string dtype) =>
        Assert.DoesNotMatch(@"\b(atom|red)\.", fixture.Ptx("paged/attention/" + dtype));

    [Theory]
    [MemberData(nameof(DTypes))]
    public void PagedAttention_ReducesWithShufflesAndBarriers_InSharedMemory(string dtype)
    {
        string ptx = fixture.Ptx("paged/attention/" + dtype);
        Assert.Contains("shfl.sync.bfly", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains("st.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ld.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ex2.approx", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain(".local", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void PagedAttention_F16Pages_WidenWithTheNativeConversion() =>
        Assert.Contains("cvt.f32.f16", fixture.Ptx("paged/attention/f16"), StringComparison.Ordinal);

    [Fact]
    public void PagedAttention_F32Pages_HaveNoConversions() =>
        Assert.DoesNotContain("cvt.f32.f16", fixture.Ptx("paged/attention/f32"), StringComparison.Ordinal);

    [Fact]
    public void KvRows_IsElementwise_WithIntegerRoundingAnd16BitStores()
    {
        string ptx = fixture.Ptx("paged/kv-rows");
        Assert.Matches(@"st\.global\.[bu]16", ptx);
        Assert.DoesNotContain("cvt.rn.f16", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("cvt.rn.bf16", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("bar.sync", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain(".shared", ptx, StringComparison.Ordinal);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The token-reduction kernels compile for SM_90 (PtxCompileTests covers every catalog entry) and use the instructions
// their designs rely on: float atomics for scatter, a CAS loop for amax, warp shuffles and barriers for the
// one-group-per-row reductions and greedy loops, 64-bit compares in the bitonic step.
namespace HpcCore.Gpu.Tests;

public sealed class SelectionPtxTests(PtxFixture fixture) : IClassFixture<PtxFixture>
{
    [Theory]
    [InlineData("similarity/bestmatch")]
    [InlineData("similarity/rowmax")]
    [InlineData("greedy/farthest-point")]
    [InlineData("greedy/coverage")]
    public void GroupReductions_UseWarpShufflesAndBarriers(string name)
    {
        string ptx = fixture.Ptx(name);
        Assert.Contains("shfl.sync.bfly", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void Scatter_UsesFloatAtomicsAndCompareAndSwap()
    {
        string ptx = fixture.Ptx("scatter/atomic");
        Assert.Contains("red.add.global.f32", ptx, StringComparison.Ordinal);
        Assert.Contains("atom.cas.global.b32", ptx, StringComparison.Ordinal);
        Assert.Contains("red.add.global.u32", fixture.Ptx("scatter/count"), StringComparison.Ordinal);
    }

    [Fact]
    public void BitonicStep_Compares64BitKeys()
    {
        string ptx = fixture.Ptx("topk/bitonic-step");
        Assert.Contains("ld.global.b64", ptx, StringComparison.Ordinal);
        Assert.Contains("setp.hi.u64", ptx, StringComparison.Ordinal); // unsigned 64-bit compare of the composites
    }
}

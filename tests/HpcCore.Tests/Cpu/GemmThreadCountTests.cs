// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The CPU GEMM's tiling depends on the thread count (GemmBlocking.Tile): one thread takes all panels in one tile, two
// or three split them into tiles of a few chunks. The conformance bodies run on the shared fixture's pool; these run
// the packed-operand bodies on pools of one and three threads as well.
namespace HpcCore.Tests.Cpu;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Testing.Conformance;
using Xunit;

public sealed class GemmThreadCountTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PackedOperand_FewRowsManyPanels_MatchesReference(int threads)
    {
        using var cpu = new CpuBackend(threads);
        new OnBackend(cpu).Gemm_PackedOperand_FewRowsManyPanels_MatchReference();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PackedOperand_AcrossKBlocks_MatchesReference(int threads)
    {
        using var cpu = new CpuBackend(threads);
        new OnBackend(cpu).Gemm_PackedOperand_MatchesReference_AcrossKBlocksAndMatrixVectorRows(transB: true);
    }

    // The conformance suite bound to a backend made here (not a test class: xunit discovers public classes only).
    private sealed class OnBackend(IBackend backend) : OpsConformance
    {
        protected override IBackend Backend => backend;

        protected override bool IsEmulator => false;
    }
}

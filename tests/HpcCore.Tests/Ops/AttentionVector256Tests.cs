// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A conformance subset of the attention tests that ./build.sh test runs a second time with DOTNET_EnableAVX512=0
// (the trait below selects it), so the Vector256 tile and decode kernels (AttentionIsa256) are checked against the
// double reference on this AVX-512 machine: odd sizes, causal and windows, GQA, every logit option, exports, block
// masks, selected keys, key splits, decode shapes (with exports, split and not) and half-precision operands.
namespace HpcCore.Tests.Ops;

using System.Runtime.Intrinsics;
using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

[Trait("Simd", "Vector256")]
public sealed class AttentionVector256Tests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 2);

    public void Dispose() => _cpu.Dispose();

    public static TheoryData<AttentionCase> Cases =>
    [
        new AttentionCase(1, 1, 1, 1, 1, 8),
        new AttentionCase(1, 33, 127, 2, 2, 80),
        new AttentionCase(1, 197, 197, 3, 3, 64) { Causal = true },
        new AttentionCase(2, 17, 45, 8, 2, 13) { Left = 5, Right = 3 },
        new AttentionCase(2, 33, 50, 2, 1, 16) { Totals = true, Rows = [3], SoftCap = 3f, Bias = 3, Rel = true, Left = 10, Right = 2 },
        new AttentionCase(1, 300, 300, 4, 1, 32) { Totals = true, Rows = [0, 299, 15, 16], Causal = true, Pad = DType.Bool },
        new AttentionCase(2, 67, 90, 4, 2, 32) { Block = 7, Totals = true, Rows = [0, 66], Pad = DType.U8 },
        new AttentionCase(1, 70, 16, 4, 1, 16) { Block = 16, Seed = 3 },
        new AttentionCase(2, 40, 300, 4, 2, 32) { Block = 16, Selected = 90, Totals = true, Rows = [3], Lengths = [300, 200] },
        new AttentionCase(1, 3, 1500, 8, 2, 64) { Causal = true, Lengths = [1400], Block = 64 },
        new AttentionCase(1, 1, 5000, 4, 1, 64) { Selected = 4099, Lengths = [4] },
        new AttentionCase(1, 3, 4099, 4, 2, 64) { Totals = true, Rows = [0, 2], Causal = true, Lengths = [4000] },
        new AttentionCase(3, 2, 300, 4, 2, 32) { Totals = true, Rows = [1], Block = 64, Bias = 3, Lengths = [300, 0, 77] },
        new AttentionCase(2, 8, 700, 12, 3, 16) { Causal = true, Left = 200, Lengths = [700, 333], Rel = true, SoftCap = 5f },
        new AttentionCase(1, 5, 1031, 4, 4, 128) { Bias = 3, Pad = DType.Bool },
        new AttentionCase(2, 45, 45, 3, 3, 32) { Packed = true, Causal = true },
        new AttentionCase(2, 45, 70, 4, 2, 32) { DType = DType.BF16, Totals = true, Means = true },
        new AttentionCase(1, 40, 70, 2, 2, 64) { Magnitude = 12f, DType = DType.F16 },
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_MatchesReference(AttentionCase c) => c.Check(_cpu, AttentionVariant.Fused);

    // Guards the second pass: DOTNET_EnableAVX512=0 must really take Vector512 away (else the pass above would
    // silently test the Vector512 kernel twice).
    [Fact]
    public void EnableAvx512Zero_DisablesVector512() =>
        Assert.True(Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") != "0" || (!Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated),
            $"DOTNET_EnableAVX512=0 but Vector512 accelerated: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}");
}

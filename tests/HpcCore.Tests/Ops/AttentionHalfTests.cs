// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// F16 and BF16 operands (q, k, v and destination of one dtype, F32 accumulation, output rounded to nearest even)
// on the tile kernel, the decode kernel (K/V widened per key block) and the unfused variant, against the double reference on the rounded inputs.
namespace HpcCore.Tests.Ops;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class AttentionHalfTests : CpuAttentionTestBase
{
    public static TheoryData<DType> Dtypes => [DType.F16, DType.BF16];

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void Tile_OddLengths(DType dtype)
    {
        Check(new AttentionCase(1, 33, 127, 2, 2, 80) { DType = dtype });
        Check(new AttentionCase(2, 197, 197, 3, 3, 64) { DType = dtype, Causal = true });
    }

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void Tile_WithExportsMaskAndMeans(DType dtype) =>
        Check(new AttentionCase(2, 45, 70, 4, 2, 32) { DType = dtype, Totals = true, Rows = [0, 44], Block = 16, Means = true, Bias = 2 });

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void Decode(DType dtype)
    {
        Check(new AttentionCase(1, 1, 1031, 8, 2, 64) { DType = dtype });
        Check(new AttentionCase(2, 8, 700, 4, 4, 128) { DType = dtype, Causal = true, Lengths = [700, 333] });
    }

    // The decode kernel widens K/V per key block into per-thread staging (two units in flight): key splits, block
    // masks that skip blocks, selected keys read in place, exports and packed (strided) views all go through it.
    [Theory]
    [MemberData(nameof(Dtypes))]
    public void Decode_WidensPerKeyBlock(DType dtype)
    {
        Check(new AttentionCase(1, 3, 4099, 8, 2, 64) { DType = dtype, Totals = true, Rows = [2] });
        Check(new AttentionCase(1, 2, 3000, 4, 1, 32) { DType = dtype, Block = 64, Causal = true, Left = 900 });
        Check(new AttentionCase(2, 1, 1500, 4, 2, 16) { DType = dtype, Selected = 1100, Lengths = [1500, 700], Bias = 3 });
    }

    // Strided half-precision views (q, k, v slices of a packed [B, T, 3H, D] projection, a padded destination) must
    // give bit-for-bit the output of contiguous copies of the same values (checked against the reference above), on
    // the tile kernel (T 45) and on the decode kernel, which reads the strided K/V rows per key block (T 4).
    [Theory]
    [InlineData(DType.F16, 45)]
    [InlineData(DType.BF16, 45)]
    [InlineData(DType.F16, 4)]
    [InlineData(DType.BF16, 4)]
    public void PackedViews_AndStridedDestination_MatchContiguous(DType dtype, int t)
    {
        const int b = 2, h = 3, d = 32;
        using var packed32 = Tensor.From<float>(TestData.Uniform(b * t * 3 * h * d, 9), new Shape(b, t, 3 * h, d), Cpu);
        using var packed = Cast.To(packed32, dtype);
        using var q = packed.Narrow(2, 0, h).Contiguous();
        using var k = packed.Narrow(2, h, h).Contiguous();
        using var v = packed.Narrow(2, 2 * h, h).Contiguous();
        using var padded = Tensor.Zeros(new Shape(b, t, h, d + 3), dtype, Cpu);
        var options = new AttentionOptions(Causal: true);
        using var expected = Attention.Forward(q, k, v, options);
        Attention.Forward(packed.Narrow(2, 0, h), packed.Narrow(2, h, h), packed.Narrow(2, 2 * h, h), padded.Narrow(3, 1, d), options);
        using var actual = padded.Narrow(3, 1, d).Contiguous();
        using var e32 = Cast.To(expected, DType.F32);
        using var a32 = Cast.To(actual, DType.F32);
        Assert.Equal(e32.ToArray<float>(), a32.ToArray<float>());
    }
}

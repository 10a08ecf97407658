// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The fused attention kernel on OpenCL at model shapes (197 tokens: ViT-B/16 at 224 px; 577: at 384 px; 2,880: a
// long context), every option and export, F16 and BF16 operands, against the double reference. The emulator covers
// the same options at tiny shapes only.
namespace HpcCore.OpenCL.Tests;

using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>Attention.Forward on OpenCL against ReferenceAttention.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLAttentionTests(OpenCLFixture fixture)
{
    private static readonly Dictionary<string, Func<int, AttentionCase>> Options = new()
    {
        ["plain"] = t => new AttentionCase(1, t, t, 4, 4, 64),
        ["gqa"] = t => new AttentionCase(1, t, t, 8, 2, 64),
        ["causal"] = t => new AttentionCase(1, t, t, 4, 2, 64) { Causal = true },
        ["window"] = t => new AttentionCase(1, t, t, 2, 2, 64) { Left = 31, Right = 7 },
        ["padding-bool"] = t => new AttentionCase(2, t, t, 2, 2, 64) { Pad = DType.Bool },
        ["padding-u8"] = t => new AttentionCase(2, t, t, 2, 2, 64) { Pad = DType.U8 },
        ["key-lengths"] = t => new AttentionCase(2, t, t, 4, 2, 64) { Lengths = [t, t / 3], Causal = true },
        ["key-bias"] = t => new AttentionCase(1, t, t, 4, 2, 64) { Bias = 3 },
        ["position-bias"] = t => new AttentionCase(1, t, t, 2, 2, 64) { Rel = true },
        ["softcap"] = t => new AttentionCase(1, t, t, 2, 2, 64) { SoftCap = 5f, Magnitude = 4f },
        ["selected-exports"] = t => new AttentionCase(1, t, t, 4, 2, 64) { Selected = t / 4, Totals = true, Rows = [0, t / 2, t - 1] },
        ["exports"] = t => new AttentionCase(1, t, t, 4, 2, 64) { Totals = true, Rows = [0, t / 2, t - 1], Causal = true },
        ["block-mask"] = t => new AttentionCase(1, t, t, 4, 4, 64) { Block = 64 },
        ["key-means"] = t => new AttentionCase(1, t, t, 4, 4, 64) { Means = true },
        ["packed"] = t => new AttentionCase(1, t, t, 4, 4, 64) { Packed = true, Causal = true },
        ["f16"] = t => new AttentionCase(1, t, t, 4, 2, 64) { DType = DType.F16, Causal = true, Totals = true },
        ["bf16"] = t => new AttentionCase(1, t, t, 4, 2, 64) { DType = DType.BF16, Pad = DType.Bool },
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Options.Keys)
            foreach (int t in new[] { 197, 577 })
                data.Add(name, t);
        foreach (string name in new[] { "plain", "causal", "selected-exports", "f16" }) data.Add(name, 2880);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(string option, int tokens) =>
        Options[option](tokens).Check(fixture.Backend, tolerance: Tolerance.GpuF32);

    [Theory]
    [InlineData(1, 4096)]
    [InlineData(4, 4096)]
    public void Decode_OverLongKeyRanges_MatchesTheReference(int queries, int keys) =>
        new AttentionCase(1, queries, keys, 8, 2, 128) { Causal = true }.Check(fixture.Backend, tolerance: Tolerance.GpuF32);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// VitWeights.ToBf16Linear: the blocks' linear weights and the head narrow to BF16 (nearest even), everything else stays
// F32 and shared; a session on the BF16 weights equals, bit for bit, a session on F32 weights holding the same rounded
// values (the encoder multiplies F32 panels packed from BF16, and the head's few rows read BF16 in place).
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Cpu;
using HpcCore.Models.Vit;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

public sealed class VitBf16WeightsTests
{
    private static readonly VitConfig Config = new(28, 2, 1, 16, 4, 4, 32, 10, 1e-6f, [0.5f], [0.25f]);
    private static readonly string[] BlockLinears = ["attn.qkv.weight", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc2.weight"];

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void Session_OnBf16Weights_EqualsTheF32SessionOnTheRoundedWeights(int batch)
    {
        using var cpu = new CpuBackend(threads: 1);
        using var rounded = VitWeightsLoader.Random(Config, cpu, seed: 2);
        var qkv = rounded.Blocks[0].QkvWeight.ToArray<float>();
        using var bf16 = rounded.ToBf16Linear();
        Assert.Equal(qkv.Select(ReferenceConvert.ToBf16).ToArray(), bf16.Blocks[0].QkvWeight.ToArray<ushort>());
        foreach (var (name, t) in bf16.Named())
        {
            bool linear = name == "head.weight" || (name.StartsWith("blocks.", StringComparison.Ordinal)
                && BlockLinears.Any(n => name.EndsWith(n, StringComparison.Ordinal)));
            Assert.True((linear ? DType.BF16 : DType.F32) == t.DType, $"{name} is {t.DType}");
        }
        foreach (var (f, b) in rounded.Blocks.Zip(bf16.Blocks))
            foreach (var (ft, bt) in new[] { (f.QkvWeight, b.QkvWeight), (f.ProjWeight, b.ProjWeight), (f.Fc1Weight, b.Fc1Weight), (f.Fc2Weight, b.Fc2Weight) })
                Cast.To(bt, ft);
        Cast.To(bf16.HeadWeight, rounded.HeadWeight);
        var pixels = TestData.Uniform(batch * Config.Channels * Config.ImageSize * Config.ImageSize, 7);
        using var s32 = new VitSession(rounded, batch);
        using var s16 = new VitSession(bf16, batch);
        var expected = s32.Forward(pixels).ToArray<float>();
        Assert.Equal(expected, s16.Forward(pixels).ToArray<float>());
        Assert.All(expected, v => Assert.True(float.IsFinite(v)));
    }
}

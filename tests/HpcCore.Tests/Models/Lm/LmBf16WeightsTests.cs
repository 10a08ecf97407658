// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BF16 linear weights (LmWeights.ToBf16Linear, LmLoadOptions): which tensors narrow and which stay F32 and shared,
// rounding to nearest even, independence of the two objects, and the decoder on BF16 weights against the same decoder
// on F32 weights holding the rounded values: widening is exact and the GEMM then runs the F32 arithmetic, so prefill
// (packed F32 panels) and decode (the GEMV reading BF16 in place) must agree bit for bit.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

public sealed class LmBf16WeightsTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void ToBf16Linear_NarrowsTheProjections_AndSharesEverythingElse(string arch)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = arch == "llama" ? LmTestModels.Llama() : LmTestModels.Gpt2();
        var f32 = LmTestModels.Random(config, cpu, seed: 3);
        var wq = f32.Layers[1].Wq.ToArray<float>();
        var norm = f32.Layers[1].AttnNorm.ToArray<float>();
        using var bf16 = f32.ToBf16Linear();
        f32.Dispose();  // the copy must not depend on the original object
        foreach (var l in bf16.Layers)
        {
            foreach (var t in new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.Up, l.Down, l.Gate })
                if (t is not null) Assert.Equal(DType.BF16, t.DType);
            foreach (var t in new[] { l.AttnNorm, l.AttnNormBias, l.FfnNorm, l.FfnNormBias, l.Bq, l.Bk, l.Bv, l.Bo, l.UpBias, l.DownBias })
                if (t is not null) Assert.Equal(DType.F32, t.DType);
        }
        Assert.Equal(DType.F32, bf16.TokenEmbedding.DType);
        Assert.Equal(DType.F32, bf16.FinalNorm.DType);
        bool tied = arch == "gpt2";
        Assert.Equal(tied, ReferenceEquals(bf16.Classifier, bf16.TokenEmbedding));
        Assert.Equal(tied ? DType.F32 : DType.BF16, bf16.Classifier.DType);
        Assert.Equal(wq.Select(ReferenceConvert.ToBf16).ToArray(), bf16.Layers[1].Wq.ToArray<ushort>());
        Assert.Equal(norm, bf16.Layers[1].AttnNorm.ToArray<float>());
        // Streamed bytes: the projections (and an untied classifier) at 2 bytes, the rest at 4.
        long linear = bf16.Layers.Sum(l => l.Wq.ElementCount + l.Wk.ElementCount + l.Wv.ElementCount + l.Wo.ElementCount
            + l.Up.ElementCount + l.Down.ElementCount + (l.Gate?.ElementCount ?? 0)) + (tied ? 0 : bf16.Classifier.ElementCount);
        using var again = bf16.ToBf16Linear();
        Assert.Equal(bf16.StreamedBytes, again.StreamedBytes);
        Assert.Equal(bf16.Layers[0].Down.ToArray<ushort>(), again.Layers[0].Down.ToArray<ushort>());
        Assert.True(linear > 0);
        using var widened = LmTestModels.Random(config, cpu, seed: 3);
        Assert.Equal(widened.StreamedBytes - 2 * linear, bf16.StreamedBytes);
    }

    [Theory]
    [InlineData("llama", 4, 13)]
    [InlineData("gpt2", 5, 11)]
    public void Decoder_OnBf16Weights_EqualsTheF32DecoderOnTheRoundedWeights(string arch, int chunk, int length)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = arch == "llama" ? LmTestModels.Llama() : LmTestModels.Gpt2();
        using var rounded = LmTestModels.Random(config, cpu, seed: length);
        using var bf16 = rounded.ToBf16Linear();
        // The F32 twin: the same BF16 values widened back into the F32 tensors.
        foreach (var (f, b) in rounded.Layers.Zip(bf16.Layers))
            foreach (var (ft, bt) in new[] { (f.Wq, b.Wq), (f.Wk, b.Wk), (f.Wv, b.Wv), (f.Wo, b.Wo), (f.Up, b.Up), (f.Down, b.Down), (f.Gate, b.Gate) })
                if (ft is not null) Cast.To(bt!, ft);
        if (!ReferenceEquals(rounded.Classifier, rounded.TokenEmbedding)) Cast.To(bf16.Classifier, rounded.Classifier);
        int[] tokens = TestData.Ints(length, length + 1, config.VocabSize);
        var options = new LmDecoderOptions(PrefillChunk: chunk, PageTokens: 4);
        using var d32 = new LmDecoder(config, rounded, cpu, options);
        using var d16 = new LmDecoder(config, bf16, cpu, options);
        int prompt = length / 2 + 1;
        Assert.Equal(d32.Prefill(tokens.AsSpan(0, prompt)).ToArray(), d16.Prefill(tokens.AsSpan(0, prompt)).ToArray());
        for (int t = prompt; t < length; t++)
            Assert.Equal(d32.Decode(tokens[t]).ToArray(), d16.Decode(tokens[t]).ToArray());
        // And against the plain double reference of the rounded model.
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, rounded), tokens);
        d16.Reset();
        LmDecoderTests.AssertRow(expected, length - 1, d16.Prefill(tokens));
    }

    [Stories260KFact]
    public void Open_WithBf16Option_StoresBf16Projections_AndRefusesOtherTypes()
    {
        var dir = Stories260K.Folder()!;
        using var cpu = new CpuBackend(threads: 1);
        string model = Path.Combine(dir, "stories260K.bin"), tok = Path.Combine(dir, "tok512.bin");
        var f32 = LmModelFiles.Open(model, tok, cpu);
        using var _ = f32.Weights;
        var bf16 = LmModelFiles.Open(model, tok, cpu, null, new LmLoadOptions(DType.BF16));
        using var __ = bf16.Weights;
        Assert.Equal(DType.BF16, bf16.Weights.Layers[0].Wq.DType);
        Assert.Equal(f32.Weights.ParameterCount, bf16.Weights.ParameterCount);
        Assert.Equal(f32.Weights.Layers[4].Down.ToArray<float>().Select(ReferenceConvert.ToBf16).ToArray(), bf16.Weights.Layers[4].Down.ToArray<ushort>());
        var e = Assert.Throws<ArgumentException>(() => LmModelFiles.Open(model, tok, cpu, null, new LmLoadOptions(DType.F16)));
        Assert.Contains("F16", e.Message);
    }
}

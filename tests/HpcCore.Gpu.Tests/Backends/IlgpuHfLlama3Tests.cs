// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A Hugging Face Llama 3 folder (BF16 shards, llama3 rope_scaling: its RoPE runs on the host, ScaledRope) on ILGPU's
// emulator: the same greedy tokens as the CPU backend, so the host rotation's download and upload of Q and K work on
// a device backend.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;

/// <summary>The tiny llama3 folder of tools/golden/hf_llm.py, greedy on the emulator against the CPU backend.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuHfLlama3Tests(IlgpuCpuFixture fixture)
{
    private const int Steps = 8;

    [Fact]
    public void Llama3Tiny_GreedyTokens_MatchTheCpu()
    {
        int[] cpu = Greedy(fixture.Cpu);
        Assert.Equal(cpu, Greedy(fixture.Backend));
        Assert.Equal(Steps, cpu.Length);
    }

    private static int[] Greedy(IBackend backend)
    {
        var model = LmModelFiles.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "hf", "llama3-tiny"), tokenizerPath: null, backend);
        using var weights = model.Weights;
        Assert.NotNull(model.Config.RopeScaling);
        using var decoder = new LmDecoder(model.Config, weights, backend, new LmDecoderOptions(PrefillChunk: 4));
        var logits = decoder.Prefill(model.Tokenizer.Encode("Once upon a time", addBos: true));
        var tokens = new int[Steps];
        for (int i = 0; i < Steps; i++)
        {
            tokens[i] = TokenSampler.Argmax(logits);
            logits = decoder.Decode(tokens[i]);
        }
        return tokens;
    }
}

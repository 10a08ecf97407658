// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The decoder on ILGPU: every step through the op front doors on the emulator (GEMV, norms, RoPE, SwiGLU, embedding,
// KV row writes into device pages, paged attention), with the same greedy tokens as the CPU backend on stories260K.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;
using HpcCore.Testing;

/// <summary>stories260K greedy decoding on ILGPU's emulator against the CPU backend, token for token.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuDecoderTests(IlgpuCpuFixture fixture)
{
    private const int Steps = 6;

    [Stories260KTheory]
    [InlineData("full")]
    [InlineData("streaming")]
    public void Stories260K_GreedyTokens_MatchTheCpu(string policy)
    {
        string dir = Stories260K.Folder()!;
        int[] cpu = Greedy(fixture.Cpu, dir, policy);
        int[] gpu = Greedy(fixture.Backend, dir, policy);
        Assert.Equal(cpu, gpu);
        Assert.Equal(Steps, cpu.Length);
    }

    private static int[] Greedy(IBackend backend, string dir, string policy)
    {
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), backend);
        using var _ = weights;
        // A small budget makes StreamingLLM evict (and compact device pages) during these few steps.
        var kv = KvPolicyRegistry.Create(policy, new KvPolicySettings { Budget = 8 });
        using var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(MaxTokens: 32, PrefillChunk: 4, Policy: kv));
        var logits = decoder.Prefill(tok.Encode("Once upon a time", addBos: true));
        var tokens = new int[Steps];
        for (int i = 0; i < Steps; i++)
        {
            tokens[i] = TokenSampler.Argmax(logits);
            logits = decoder.Decode(tokens[i]);
        }
        return tokens;
    }
}

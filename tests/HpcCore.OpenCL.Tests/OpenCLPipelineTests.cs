// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The pipelines on OpenCL: the committed Fashion-MNIST ViT on the committed 1,000 test images, plain and with token
// reduction, gives the CPU backend's predictions; the stories260K decoder gives the CPU's greedy tokens.
namespace HpcCore.OpenCL.Tests;

using HpcCore.Devices;
using HpcCore.Models.Images;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;
using HpcCore.Models.Vit;
using HpcCore.Testing;

/// <summary>ViT and decoder on OpenCL against the CPU backend.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLPipelineTests(OpenCLFixture fixture)
{
    private const int Batch = 100;

    [Theory]
    [InlineData("baseline")]
    [InlineData("tome:r=26")]
    [InlineData("evit:keep=0.7;layers=1")]
    public void Vit_OnTheCommittedImages_GivesTheCpuPredictions(string method)
    {
        var images = ImageSet.LoadIdx(Path.Combine(Stories260K.RepositoryRoot(), "assets", "data", "fashion-mnist"));
        string model = Path.Combine(Stories260K.RepositoryRoot(), "assets", "vit", "vit-fmnist.safetensors");
        int[] cpu = Predictions(fixture.Cpu, model, images, method, out double cpuAccuracy);
        int[] gpu = Predictions(fixture.Backend, model, images, method, out double gpuAccuracy);
        Assert.Equal(1000, cpu.Length);
        int differ = cpu.Zip(gpu).Count(p => p.First != p.Second);
        Assert.True(differ == 0, $"{method}: {differ} of {cpu.Length} predictions differ (top-1 CPU {cpuAccuracy:P1}, OpenCL {gpuAccuracy:P1})");
    }

    [Stories260KTheory]
    [InlineData("full")]
    [InlineData("streaming")]
    [InlineData("h2o")]
    [InlineData("tokenselect")]
    public void Stories260K_GreedyTokens_MatchTheCpu(string policy)
    {
        string dir = Stories260K.Folder()!;
        int[] cpu = Greedy(fixture.Cpu, dir, policy);
        int[] gpu = Greedy(fixture.Backend, dir, policy);
        Assert.Equal(cpu, gpu);
    }

    private static int[] Predictions(IBackend backend, string model, ImageSet images, string method, out double accuracy)
    {
        using var weights = VitWeightsLoader.Load(model, backend);
        var config = weights.Config;
        var reducer = VitReducers.Create(VitMethodSpec.Parse(method), config);
        try
        {
            using var session = new VitSession(weights, Batch, reducer);
            int px = config.Channels * config.ImageSize * config.ImageSize, n = Math.Min(1000, images.Count), correct = 0;
            var predictions = new int[n];
            var batch = new float[Batch * px];
            for (int start = 0; start < n; start += Batch)
            {
                batch.AsSpan().Clear();
                int count = Math.Min(Batch, n - start);
                for (int i = 0; i < count; i++)
                    ImageTensor.Write(images.Image(start + i), images.Height, images.Width, config, batch.AsSpan(i * px, px));
                var logits = session.Forward(batch).ToArray<float>();
                for (int i = 0; i < count; i++)
                {
                    predictions[start + i] = TokenSampler.Argmax(logits.AsSpan(i * config.Classes, config.Classes));
                    if (predictions[start + i] == images.Label(start + i)) correct++;
                }
            }
            accuracy = (double)correct / n;
            return predictions;
        }
        finally
        {
            reducer?.Dispose();
        }
    }

    private static int[] Greedy(IBackend backend, string dir, string policy)
    {
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), backend);
        using var _ = weights;
        // A budget of 24 makes the evicting policies act within the 48 steps.
        var kv = KvPolicyRegistry.Create(policy, new KvPolicySettings { Budget = 24 });
        using var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(MaxTokens: 128, PrefillChunk: 8, Policy: kv));
        var logits = decoder.Prefill(tok.Encode("Once upon a time, there was a little girl named Lily.", addBos: true));
        var tokens = new int[48];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = TokenSampler.Argmax(logits);
            logits = decoder.Decode(tokens[i]);
        }
        return tokens;
    }
}

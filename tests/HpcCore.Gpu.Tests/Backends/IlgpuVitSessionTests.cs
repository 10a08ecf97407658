// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ViT forward (VitSession) on the ILGPU backend, as `hpccore vit eval` runs it when a GPU is found: the emulator's
// logits against the SIMD CPU backend's on a tiny model, plain and with reducers that use the attention exports.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Models.Vit;
using HpcCore.Testing;

/// <summary>VitSession on the emulator vs the CPU backend.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuVitSessionTests(IlgpuCpuFixture fixture)
{
    // 6 x 6 pixels at patch 2: 9 patches on a 3 x 3 grid plus [CLS]; D 8, 2 heads, 2 blocks.
    private static readonly VitConfig Config = new(6, 2, 1, 8, 2, 2, 16, 3, 1e-6f, [0.5f], [0.25f]);

    [Theory]
    [InlineData("baseline")]
    [InlineData("tome:r=2")]
    [InlineData("evit:keep=0.5;layers=1")]
    [InlineData("vtc:keep=0.5;layers=1;from=0")]
    [InlineData("hiprune:keep=0.5;layer=1;object=0")]
    public void Forward_MatchesCpu(string method)
    {
        var pixels = TestData.Uniform(2 * 36, seed: 5);
        var expected = Logits(fixture.Cpu, method, pixels);
        var actual = Logits(fixture.Backend, method, pixels);
        TensorAssert.Close(expected, actual, Tolerance.GpuF32.ForDot(16), $"{method} on {fixture.Backend.Device}");
    }

    private static float[] Logits(IBackend backend, string method, float[] pixels)
    {
        using var w = ScaledRandom(backend);
        var reducer = VitReducers.Create(VitMethodSpec.Parse(method), Config);
        try
        {
            using var session = new VitSession(w, 2, reducer);
            return session.Forward(pixels).ToArray<float>();
        }
        finally
        {
            reducer?.Dispose();
        }
    }

    // The same weights on either backend, at a scale that makes attention far from uniform (no near-tied selections).
    private static VitWeights ScaledRandom(IBackend backend)
    {
        var w = VitWeightsLoader.Random(Config, backend, seed: 3);
        int k = 0;
        foreach (var (name, t) in w.Named())
        {
            var v = TestData.Uniform((int)t.ElementCount, 1000 + k++, -0.5f, 0.5f);
            if (name.EndsWith("norm1.weight", StringComparison.Ordinal) || name.EndsWith("norm2.weight", StringComparison.Ordinal) || name == "norm.weight")
                for (int i = 0; i < v.Length; i++) v[i] += 1;
            t.CopyFrom<float>(v);
        }
        return w;
    }
}

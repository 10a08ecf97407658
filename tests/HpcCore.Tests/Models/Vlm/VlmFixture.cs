// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Vlm;

using HpcCore.Cpu;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using HpcCore.Models.Vlm;
using HpcCore.Tests.Models.Vit;

/// <summary>The committed VLM (assets/vlm), its vision tower and the test images, loaded once for the VLM test classes.</summary>
public sealed class VlmFixture : IDisposable
{
    public VlmFixture()
    {
        Cpu = new CpuBackend(threads: 2);
        Vit = VitWeightsLoader.Load(VitGoldenTests.RepoFile("assets/vlm/vision.safetensors"), Cpu);
        Weights = VlmWeights.Load(VitGoldenTests.RepoFile("assets/vlm/vlm-grid.safetensors"), Cpu);
        Images = ImageSet.LoadIdx(Path.GetDirectoryName(VitGoldenTests.RepoFile("assets/data/fashion-mnist/t10k-images-idx3-ubyte.gz"))!);
        Set = VlmEvalSet.Load(VitGoldenTests.RepoFile("assets/vlm/eval-set.json"), Images);
        Base = new VlmPipeline(Vit, Weights, highRes: false);
        HighRes = new VlmPipeline(Vit, Weights, highRes: true);
    }

    public CpuBackend Cpu { get; }
    public VitWeights Vit { get; }
    public VlmWeights Weights { get; }
    public ImageSet Images { get; }
    public VlmEvalSet Set { get; }
    public VlmPipeline Base { get; }
    public VlmPipeline HighRes { get; }

    public VlmMethod Method(string name) => VlmMethod.Create(name, Weights.LmConfig.Layers, Vit.Config.Depth);

    public void Dispose()
    {
        Base.Dispose();
        HighRes.Dispose();
        Weights.Dispose();
        Vit.Dispose();
        Cpu.Dispose();
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The committed Fashion-MNIST ViT (assets/vit, trained by tools/train/vit) against PyTorch's logits for the first
// test images (golden.json, written by tools/train/vit/export.py from the same weights), plain and with ToMe.
namespace HpcCore.Tests.Models.Vit;

using System.Text.Json;
using HpcCore.Cpu;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;
using HpcCore.Models.Vit.Reducers;
using HpcCore.Models.Weights;
using HpcCore.Testing;
using Xunit;

public sealed class VitGoldenTests
{
    internal static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void TrainedModel_MatchesPyTorchLogits()
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(RepoFile("assets/vit/golden.json")));
        var root = golden.RootElement;
        int count = root.GetProperty("count").GetInt32();
        var expected = root.GetProperty("logits").EnumerateArray()
            .SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

        using var cpu = new CpuBackend(threads: 2);
        using var w = VitWeightsLoader.Load(RepoFile("assets/vit/vit-fmnist.safetensors"), cpu);
        Assert.Equal((28, 2, 1, 64, 4), (w.Config.ImageSize, w.Config.PatchSize, w.Config.Channels, w.Config.Dim, w.Config.Heads));
        Assert.Equal(197, w.Config.Tokens);
        var set = ImageSet.LoadIdx(Path.GetDirectoryName(RepoFile("assets/data/fashion-mnist/t10k-images-idx3-ubyte.gz"))!);
        int px = 28 * 28;
        var pixels = new float[count * px];
        for (int i = 0; i < count; i++)
            ImageTensor.Write(set.Image(i), 28, 28, w.Config, pixels.AsSpan(i * px, px));
        using var session = new VitSession(w, count);
        var actual = session.Forward(pixels).ToArray<float>();
        TensorAssert.Close(expected, actual, VitTolerances.GoldenLogits, "ViT logits vs PyTorch");

        // The same images with ToMe merging in every block (export.py runs tools/train/vit/tome_forward.py): the merge
        // plans must agree exactly, or the logits drift far outside the tolerance.
        var tome = root.GetProperty("tome");
        int[] schedule = [.. tome.GetProperty("schedule").EnumerateArray().Select(v => v.GetInt32())];
        var expectedTome = tome.GetProperty("logits").EnumerateArray()
            .SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        using var reducer = new ToMeReducer(schedule);
        using var merging = new VitSession(w, count, reducer);
        int left = w.Config.Tokens;
        foreach (int r in schedule) left -= Math.Min(r, (left - 1) / 2); // [CLS] is an A token that never merges
        Assert.Equal(left, merging.TokensAfterReduction[^1]);
        TensorAssert.Close(expectedTome, merging.Forward(pixels).ToArray<float>(), VitTolerances.GoldenLogits, "ViT ToMe logits vs PyTorch");
    }

    [Fact]
    public void Load_WrongShape_ThrowsNamingTheTensor()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var reader = SafetensorsReader.Open(RepoFile("assets/vit/vit-fmnist.safetensors"));
        using var w = VitWeightsLoader.Load(reader, cpu);
        var tensors = w.Named().Where(kv => kv.Key != "blocks.1.mlp.fc2.bias").ToList();
        var ms = new MemoryStream();
        SafetensorsWriter.Write(ms, tensors, reader.Metadata);
        using var missing = SafetensorsReader.FromBytes(ms.ToArray(), "missing.safetensors");
        var ex = Assert.Throws<SafetensorsFormatException>(() => VitWeightsLoader.Load(missing, cpu));
        Assert.Contains("blocks.1.mlp.fc2.bias", ex.Message);

        using var wrong = HpcCore.Tensors.Tensor.Zeros(new HpcCore.Tensors.Shape(63), HpcCore.Tensors.DType.F32, cpu);
        var bad = w.Named().Select(kv => kv.Key == "blocks.2.norm2.bias" ? new KeyValuePair<string, HpcCore.Tensors.Tensor>(kv.Key, wrong) : kv).ToList();
        var ms2 = new MemoryStream();
        SafetensorsWriter.Write(ms2, bad, reader.Metadata);
        using var shaped = SafetensorsReader.FromBytes(ms2.ToArray(), "shaped.safetensors");
        ex = Assert.Throws<SafetensorsFormatException>(() => VitWeightsLoader.Load(shaped, cpu));
        Assert.Contains("blocks.2.norm2.bias", ex.Message);
        Assert.Contains("[63]", ex.Message);
    }
}

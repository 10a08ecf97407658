// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The sentence encoder (EncoderSession) on the ILGPU backend: the emulator's embeddings against the SIMD CPU backend's
// on a tiny BERT, plain and with token reduction on text (padding masks, proportional attention, [CLS]-row exports).
namespace HpcCore.Gpu.Tests;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Models.Encoder;
using HpcCore.Models.Encoder.Reduction;
using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>EncoderSession on the emulator vs the CPU backend.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuEncoderSessionTests(IlgpuCpuFixture fixture) : IDisposable
{
    private static readonly EncoderConfig Config = new(8, 2, 2, 16, 20, 16);
    private readonly string _dir = WriteFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("none")]
    [InlineData("tome:r=2")]
    [InlineData("evit:keep=0.5;layers=1")]
    public void Encode_MatchesCpu(string method)
    {
        var expected = Embed(fixture.Cpu, method);
        var actual = Embed(fixture.Backend, method);
        TensorAssert.Close(expected, actual, Tolerance.GpuF32.ForDot(16), $"{method} on {fixture.Backend.Device}");
    }

    private float[] Embed(IBackend backend, string method)
    {
        using var model = EncoderModel.Load(_dir, backend);
        using var session = new EncoderSession(model.Weights, 2, 16, EncoderReducers.Parse(method, Config.Layers));
        int[] lengths = [5, 12];
        var output = new float[2 * Config.Hidden];
        session.Encode(TestData.Ints(17, 3, Config.VocabSize), lengths, output);
        return output;
    }

    private static string WriteFolder()
    {
        string dir = Directory.CreateTempSubdirectory("hpccore-gpu-encoder-").FullName;
        using var cpu = new CpuBackend(1);
        int d = Config.Hidden, i = Config.Intermediate, seed = 0;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Add(string name, float offset, params int[] shape) =>
            tensors[name] = Tensor.From<float>(TestData.Uniform(shape.Aggregate(1, (a, b) => a * b), seed++, -0.5f, 0.5f).Select(v => v + offset).ToArray(), new Shape(shape), cpu);
        Add("embeddings.word_embeddings.weight", 0, Config.VocabSize, d);
        Add("embeddings.position_embeddings.weight", 0, Config.MaxPositions, d);
        Add("embeddings.token_type_embeddings.weight", 0, Config.TypeVocabSize, d);
        Add("embeddings.LayerNorm.weight", 1, d);
        Add("embeddings.LayerNorm.bias", 0, d);
        for (int l = 0; l < Config.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            foreach (var proj in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                Add(p + proj + ".weight", 0, d, d);
                Add(p + proj + ".bias", 0, d);
            }
            Add(p + "attention.output.LayerNorm.weight", 1, d);
            Add(p + "attention.output.LayerNorm.bias", 0, d);
            Add(p + "intermediate.dense.weight", 0, i, d);
            Add(p + "intermediate.dense.bias", 0, i);
            Add(p + "output.dense.weight", 0, d, i);
            Add(p + "output.dense.bias", 0, d);
            Add(p + "output.LayerNorm.weight", 1, d);
            Add(p + "output.LayerNorm.bias", 0, d);
        }
        var vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + string.Concat(Enumerable.Range(0, 15).Select(k => $"w{k}\n"));
        try
        {
            EncoderFolder.Write(dir, Config, tensors, vocab, lowerCase: true);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        return dir;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

/// <summary>
/// Each pretrained package once per test class: its HF folder written by the importer into a temporary folder and
/// loaded, and ONNX Runtime running the package's own ONNX file (the oracle).
/// </summary>
public sealed class SentenceEncoderFixture : IDisposable
{
    private readonly Dictionary<string, Loaded> _loaded = [];
    private readonly string _root = Directory.CreateTempSubdirectory("hpccore-encoders-").FullName;

    public CpuBackend Cpu { get; } = new(2);

    public sealed record Loaded(EncoderModel Model, InferenceSession Ort, string Folder);

    public Loaded Get(string key)
    {
        lock (_loaded)
        {
            if (_loaded.TryGetValue(key, out var l)) return l;
            var package = SentenceEncoderPackage.Find(key)!;
            string assembly = package.FindAssembly()!;
            string folder = Path.Combine(_root, key);
            package.Prepare(assembly, folder);
            using var options = new SessionOptions { IntraOpNumThreads = 2 };
            l = new Loaded(EncoderModel.Load(folder, Cpu), new InferenceSession(package.ReadOnnx(assembly), options), folder);
            _loaded[key] = l;
            return l;
        }
    }

    /// <summary>ONNX Runtime's last_hidden_state [B, T, D] for texts padded to the longest, as the packages feed it.</summary>
    public static float[] RunOrt(InferenceSession ort, int[][] texts, out int tokens)
    {
        int b = texts.Length, t = texts.Max(x => x.Length);
        var ids = new long[b * t];
        var mask = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < texts[i].Length; j++)
            {
                ids[i * t + j] = texts[i][j];
                mask[i * t + j] = 1;
            }
        int[] dims = [b, t];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * t], dims)),
        };
        using var results = ort.Run(inputs);
        tokens = t;
        return results.First(r => r.Name == "last_hidden_state").AsEnumerable<float>().ToArray();
    }

    public void Dispose()
    {
        foreach (var l in _loaded.Values)
        {
            l.Ort.Dispose();
            l.Model.Dispose();
        }
        Cpu.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}

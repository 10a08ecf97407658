// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The trained Fashion-MNIST ViT (assets/vit: 197 tokens, D 64, 8 blocks) through our VitSession against ONNX Runtime
// running the ONNX export of the same weights (tools/train/vit/export.py), same process, interleaved, at batch 1
// and 64. Inputs and outputs are bound once over pinned arrays so ORT allocates nothing per run.
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Vit;
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick vit` side-by-side benchmark.</summary>
public static class QuickVit
{
    private static readonly int[] Batches = [1, 64];

    // Relative to the largest logit: two F32 implementations of 8 blocks differ by ~1e-6 of it.
    private const double MaxRelativeError = 1e-3;

    /// <summary>Runs both batch sizes and prints one JSON line each; returns 1 if ours and ORT disagree.</summary>
    public static int Run()
    {
        string? model = FindAsset("assets/vit/vit-fmnist.safetensors"), onnx = FindAsset("assets/vit/vit-fmnist.onnx");
        if (model is null || onnx is null)
        {
            Console.Error.WriteLine("quick vit: assets/vit/vit-fmnist.{safetensors,onnx} not found above the working directory");
            return 1;
        }
        int threads = QuickBenchmarks.Threads;
        using var backend = new CpuBackend(threads);
        using var weights = VitWeightsLoader.Load(model, backend);
        using var sessionOptions = QuickBenchmarks.CreateOrtOptions(threads);
        using var ort = new InferenceSession(onnx, sessionOptions);
        string peer = "onnxruntime-" + OrtEnv.Instance().GetVersionString();
        var c = weights.Config;
        foreach (int batch in Batches)
        {
            var pixels = Infrastructure.BenchBackends.Uniform(batch * c.Channels * c.ImageSize * c.ImageSize, 5);
            var theirs = new float[batch * c.Classes];
            using var session = new VitSession(weights, batch);
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch, c.Channels, c.ImageSize, c.ImageSize]);
            using var output = OrtValue.CreateTensorValueFromMemory(theirs, [batch, c.Classes]);
            using var binding = ort.CreateIoBinding();
            using var runOptions = new RunOptions();
            binding.BindInput("pixels", input);
            binding.BindOutput("logits", output);

            void Ours() => session.Forward(pixels);
            void Theirs() => ort.RunWithBinding(runOptions, binding);

            Theirs();
            double err = Agreement.MaxRelative(session.Forward(pixels).ToArray<float>(), theirs);
            if (!(err <= MaxRelativeError))
            {
                Console.Error.WriteLine($"vit batch {batch}: ours and {peer} disagree, max relative error {err:G3} > {MaxRelativeError:G3}");
                return 1;
            }
            var timing = Interleaved.Median(Ours, Theirs, rounds: 15, blockSeconds: 0.2);
            var (ours, peerTime) = timing;
            double oi = batch / ours, pi = batch / peerTime;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"vit-fmnist\",\"batch\":{batch},\"tokens\":{c.Tokens},\"ours_images_per_s\":{oi:F1},\"peer\":\"{peer}\",\"peer_images_per_s\":{pi:F1},\"ratio\":{oi / pi:F3},{timing.SpreadJson}}}"));
        }
        return 0;
    }

    private static string? FindAsset(string relative)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The pretrained sentence encoders (issue #17: all-MiniLM-L6-v2, snowflake-arctic-embed-xs) through our
// EncoderSession against ONNX Runtime running the packages' own ONNX files, same process, interleaved: batch 1 at 128
// tokens, and batch 32 of mixed lengths (16..128, seeded) padded to the longest as both sides do. Ours includes
// pooling and L2 normalisation; ORT stops at last_hidden_state. Inputs and outputs are bound once over pinned arrays.
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick encoder` side-by-side benchmark.</summary>
public static class QuickEncoder
{
    // Agreement checked before timing: issue #17's oracle bound on last_hidden_state.
    private const double MaxAbsoluteError = 1e-4;

    /// <summary>Runs both models and both shapes, printing one JSON line each; returns 1 if ours and ORT disagree.</summary>
    public static int Run()
    {
        int threads = QuickBenchmarks.Threads;
        using var backend = new CpuBackend(threads);
        string root = Directory.CreateTempSubdirectory("hpccore-quick-encoder-").FullName;
        try
        {
            foreach (var package in SentenceEncoderPackage.All)
            {
                string? assembly = package.FindAssembly();
                if (assembly is null)
                {
                    Console.Error.WriteLine($"quick encoder: {package.MissingMessage}");
                    return 1;
                }
                string folder = Path.Combine(root, package.Key);
                package.Prepare(assembly, folder);
                using var model = EncoderModel.Load(folder, backend);
                using var sessionOptions = QuickBenchmarks.CreateOrtOptions(threads);
                using var ort = new InferenceSession(package.ReadOnnx(assembly), sessionOptions);
                var rng = new Random(17);
                int[][] shapes = [[128], [.. Enumerable.Range(0, 31).Select(_ => rng.Next(16, 129)), 128]];
                foreach (var lengths in shapes)
                    if (Compare(package.Key, model, ort, lengths, threads) != 0) return 1;
            }
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Compare(string key, EncoderModel model, InferenceSession ort, int[] lengths, int threads)
    {
        int b = lengths.Length, t = lengths.Max(), d = model.Weights.Config.Hidden;
        var rng = new Random(5);
        var texts = lengths.Select(n => Enumerable.Range(0, n).Select(i => i == 0 ? 101 : i == n - 1 ? 102 : rng.Next(1000, 30000)).ToArray()).ToArray();
        var ids = texts.SelectMany(x => x).ToArray();
        var ours = new float[b * d];
        using var session = new EncoderSession(model.Weights, b, t);

        var ortIds = new long[b * t];
        var mask = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < lengths[i]; j++)
            {
                ortIds[i * t + j] = texts[i][j];
                mask[i * t + j] = 1;
            }
        var theirs = new float[b * t * d];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ortIds, [b, t]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [b, t]);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[b * t], [b, t]);
        using var output = OrtValue.CreateTensorValueFromMemory(theirs, [b, t, d]);
        using var binding = ort.CreateIoBinding();
        using var runOptions = new RunOptions();
        binding.BindInput("input_ids", idsValue);
        binding.BindInput("attention_mask", maskValue);
        binding.BindInput("token_type_ids", typesValue);
        binding.BindOutput("last_hidden_state", output);

        void Ours() => session.Encode(ids, lengths, ours);
        void Theirs() => ort.RunWithBinding(runOptions, binding);

        Ours();
        Theirs();
        var hidden = session.LastHiddenState.ToArray<float>();
        int tp = session.LastHiddenState.Shape[1];
        double err = 0;
        for (int i = 0; i < b; i++)
            for (int j = 0; j < lengths[i] * d; j++)
                err = Math.Max(err, Math.Abs(hidden[i * tp * d + j] - theirs[i * t * d + j]));
        string peer = "onnxruntime-" + OrtEnv.Instance().GetVersionString();
        if (!(err <= MaxAbsoluteError))
        {
            Console.Error.WriteLine($"encoder {key} batch {b}: ours and {peer} disagree, max |error| {err:G3} > {MaxAbsoluteError:G3}");
            return 1;
        }
        var timing = Interleaved.Median(Ours, Theirs, rounds: 21, blockSeconds: 0.3);
        double[][] samples = [timing.OursRounds, timing.PeerRounds];
        static double Q(double[] s, double q) => Interleaved.Quantile(s, q);
        double om = Q(samples[0], 0.5), pm = Q(samples[1], 0.5);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"op\":\"encoder-{key}\",\"batch\":{b},\"max_tokens\":{t},\"tokens\":{lengths.Sum()},\"threads\":{threads}," +
            $"\"ours_ms\":{om * 1e3:F2},\"ours_p25_p75_ms\":[{Q(samples[0], 0.25) * 1e3:F2},{Q(samples[0], 0.75) * 1e3:F2}]," +
            $"\"peer\":\"{peer}\",\"peer_ms\":{pm * 1e3:F2},\"peer_p25_p75_ms\":[{Q(samples[1], 0.25) * 1e3:F2},{Q(samples[1], 0.75) * 1e3:F2}]," +
            $"\"ratio\":{pm / om:F3},\"max_abs_error\":{err:G3},{timing.SpreadJson}}}"));
        return 0;
    }
}

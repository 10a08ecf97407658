// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick threads`: two threads must never be slower than one (issue #18 item 4). The same model runs on a one-thread
// backend, a two-thread backend as shipped (WorkSplitting.Adaptive: each unit runs serial or pooled, whichever has been
// faster lately for its size) and a two-thread backend that always uses its pool, interleaved in one process. The trained Fashion-MNIST
// ViT over batch sizes around the threshold, and greedy decode steps of the LMs (the memory-bound 6x512 model is
// where two threads pay at batch 1). One JSON line per case; "speedup" is one-thread time over two-thread time.
// HPCCORE_THREADS_CASES=vit or =lm runs only those cases; HPCCORE_THREADS_ROUNDS=N sets the interleaved rounds (default
// 15, 9 for the 6x512 model).
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Models.Vit;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick threads` benchmark.</summary>
public static class QuickThreads
{
    private static readonly int[] VitBatches = [1, 2, 4, 8, 64];

    /// <summary>Runs every case; returns 1 when a two-thread result differs from the one-thread result.</summary>
    public static int Run()
    {
        string cases = Environment.GetEnvironmentVariable("HPCCORE_THREADS_CASES") ?? "vit,lm";
        int rc = cases.Contains("vit", StringComparison.Ordinal) ? Vit() : 0;
        if (!cases.Contains("lm", StringComparison.Ordinal)) return rc;
        string dir = Path.Combine(Path.GetTempPath(), "hpccore-quick-threads-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var (name, model, tokenizer) in LmModels(dir)) rc |= Lm(name, model, tokenizer);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return rc;
    }

    // Untimed calls first: the adaptive backend's cold, warm-up and early-try units (it times each size both ways, then
    // tries the other way 4, 12 and 28 units later, before it settles). A greedy generation is 65 units of two sizes.
    private const int ChooserWarmups = SplitChooser.SettlingUnits;
    private const int GreedyWarmups = 2 + 2 * SplitChooser.Window;

    private static int Rounds(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("HPCCORE_THREADS_ROUNDS"), out int r) && r > 0 ? r : fallback;

    private static (CpuBackend One, CpuBackend Two, CpuBackend Pooled) Backends() =>
        (new CpuBackend(1), new CpuBackend(2), new CpuBackend(2) { Splitting = WorkSplitting.Pooled });

    private static int Vit()
    {
        string repo = QuickDecodeLmFolders.Repository();
        string path = Path.Combine(repo, "assets/vit/vit-fmnist.safetensors");
        var (one, two, pooled) = Backends();
        using var _1 = one;
        using var _2 = two;
        using var _3 = pooled;
        using var w1 = VitWeightsLoader.Load(path, one);
        using var w2 = VitWeightsLoader.Load(path, two);
        using var w3 = VitWeightsLoader.Load(path, pooled);
        var c = w1.Config;
        int rc = 0;
        foreach (int batch in VitBatches)
        {
            using var s1 = new VitSession(w1, batch);
            using var s2 = new VitSession(w2, batch);
            using var s3 = new VitSession(w3, batch);
            var pixels = Infrastructure.BenchBackends.Uniform(batch * c.Channels * c.ImageSize * c.ImageSize, 5);
            var expected = s1.Forward(pixels).ToArray<float>();
            if (!expected.SequenceEqual(s2.Forward(pixels).ToArray<float>()) || !expected.SequenceEqual(s3.Forward(pixels).ToArray<float>()))
            {
                Console.Error.WriteLine($"quick threads: ViT batch {batch} logits differ between one and two threads");
                rc = 1;
            }
            var r = Interleaved.Rounds([() => s1.Forward(pixels), () => s2.Forward(pixels), () => s3.Forward(pixels)],
                Rounds(15), blockSeconds: 0.1, ChooserWarmups);
            Print("vit-fmnist", $"\"batch\":{batch}", s1.FlopsPerImage * batch, r, 1e3 / batch, "ms_per_image");
        }
        return rc;
    }

    private static IEnumerable<(string Name, string Model, string? Tokenizer)> LmModels(string dir)
    {
        var stories = QuickDecodeLmFolders.Stories();
        if (stories is not null) yield return ("stories260K", Path.Combine(stories, "stories260K.bin"), Path.Combine(stories, "tok512.bin"));
        string repo = QuickDecodeLmFolders.Repository();
        yield return ("austen", Path.Combine(repo, "tools/train/lm/austen.bin"), Path.Combine(repo, "tools/train/lm/bytes259.bin"));
        string random = Path.Combine(dir, "random-6x512.gguf");
        RandomLlamaModel.WriteGguf(random, new LmConfig(LmArchitecture.Llama, 512, 1376, 6, 8, 2, 8192, 2048), GgufTensorType.F32, seed: 7);
        yield return ("random-6x512-gqa", random, null);
    }

    private static int Lm(string name, string model, string? tokenizer)
    {
        var (one, two, pooled) = Backends();
        using var _1 = one;
        using var _2 = two;
        using var _3 = pooled;
        var (config, w1, _) = LmModelFiles.Load(model, tokenizer, one);
        var (_, w2, _) = LmModelFiles.Load(model, tokenizer, two);
        var (_, w3, _) = LmModelFiles.Load(model, tokenizer, pooled);
        using var _w1 = w1;
        using var _w2 = w2;
        using var _w3 = w3;
        using var d1 = new LmDecoder(config, w1, one);
        using var d2 = new LmDecoder(config, w2, two);
        using var d3 = new LmDecoder(config, w3, pooled);
        const int prompt = 16, steps = 64;
        int[] tokens = [1, .. Enumerable.Range(0, prompt - 1).Select(i => 3 + i * 7 % (config.VocabSize - 3))];
        int[] Greedy(LmDecoder d)
        {
            d.Reset();
            var logits = d.Prefill(tokens);
            var output = new int[steps];
            for (int s = 0; s < steps; s++)
            {
                output[s] = LlamaCppRunner.ArgMax(logits.ToArray());
                logits = d.Decode(output[s]);
            }
            return output;
        }
        var expected = Greedy(d1);
        int rc = expected.SequenceEqual(Greedy(d2)) && expected.SequenceEqual(Greedy(d3)) ? 0 : 1;
        if (rc != 0) Console.Error.WriteLine($"quick threads: {name} greedy tokens differ between one and two threads");
        int rounds = Rounds(config.Dim >= 512 ? 9 : 15);
        var r = Interleaved.Rounds([() => Greedy(d1), () => Greedy(d2), () => Greedy(d3)], rounds, blockSeconds: 0.1, GreedyWarmups);
        double values = w1.StreamedValues;
        Print(name, "\"phase\":\"prefill16+decode64\"", 2 * values, r, 1e3 / steps, "ms_per_step");
        // A long prompt: the same weights, many rows per GEMM (where two threads pay on any model but the smallest).
        int length = Math.Min(512, config.MaxSeqLen);
        int[] longPrompt = [1, .. Enumerable.Range(0, length - 1).Select(i => 3 + i * 13 % (config.VocabSize - 3))];
        float[] Prefill(LmDecoder d)
        {
            d.Reset();
            return d.Prefill(longPrompt).ToArray();
        }
        // A long prefill's GEMM tiles depend on the thread count, so its logits may differ in the last bits.
        var last = Prefill(d1);
        double diff = Math.Max(Agreement.MaxRelative(Prefill(d2), last), Agreement.MaxRelative(Prefill(d3), last));
        if (!(diff <= 1e-4))
        {
            Console.Error.WriteLine($"quick threads: {name} prefill logits differ between one and two threads by {diff:G3} of the largest");
            rc = 1;
        }
        r = Interleaved.Rounds([() => Prefill(d1), () => Prefill(d2), () => Prefill(d3)], rounds, blockSeconds: 0.1, ChooserWarmups);
        // A prompt is a unit of work (LmDecoder.Prefill): as shipped, the chooser picks serial or pooled per prompt size.
        Print(name, $"\"phase\":\"prefill{length}\"", 2 * values * length, r, 1e3, "ms_per_prompt");
        return rc;
    }

    // rounds[0..2]: seconds per call on one thread, two threads as shipped, two threads always pooled.
    private static void Print(string model, string key, double flops, double[][] rounds, double scale, string unit)
    {
        double m1 = Interleaved.Quantile(rounds[0], 0.5), m2 = Interleaved.Quantile(rounds[1], 0.5), m3 = Interleaved.Quantile(rounds[2], 0.5);
        var speedup = Interleaved.Ratios(rounds[0], rounds[1]);
        var pooledSpeedup = Interleaved.Ratios(rounds[0], rounds[2]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"threads\",\"model\":\"{model}\",{key},\"flops\":{flops:G3}," +
            $"\"one_thread_{unit}\":{m1 * scale:F3},\"two_threads_{unit}\":{m2 * scale:F3},\"two_threads_pooled_{unit}\":{m3 * scale:F3}," +
            $"\"speedup\":{m1 / m2:F2},\"speedup_pooled\":{m1 / m3:F2}," +
            $"\"pooled_p25_p75\":[{Interleaved.Quantile(pooledSpeedup, 0.25):F3},{Interleaved.Quantile(pooledSpeedup, 0.75):F3}]," +
            $"{Interleaved.SpreadJson(speedup)}}}"));
    }
}

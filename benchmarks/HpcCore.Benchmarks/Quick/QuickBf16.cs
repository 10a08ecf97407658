// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick bf16`: BF16 linear weights against F32 (issue #18 item 3), each pair in one process and interleaved:
// (1) the GEMV alone at 1 thread, at a model's FFN size and at a weight far larger than the caches; (2) greedy decode
// tokens/s of the random 6x512 GQA llama (the decode-llamacpp subject) at 1 thread, and whether the BF16 tokens match;
// (3) ViT-B/16 with random weights: the largest logit error of BF16 weights against F32 at batch 2, and the committed
// Fashion-MNIST ViT: top-1 of both on the committed test images (as `vit eval` counts it), predictions that differ and
// the largest logit error; (4) held-out perplexity of stories260K and the Austen model (LmEvaluator with the full
// cache, as `lm eval --kv-policy full`).
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Images;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Models.Vit;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Quick;

/// <summary>BF16 weights against F32: speed and accuracy; prints JSON lines.</summary>
public static class QuickBf16
{
    private const int DecodeSteps = 64;

    /// <summary>Runs every part; returns 0.</summary>
    public static int Run()
    {
        Gemv();
        Decode();
        VitBase();
        VitTrained();
        Perplexity();
        return 0;
    }

    private static void Gemv()
    {
        using var cpu = new CpuBackend(threads: 1);
        foreach (var (n, k) in new[] { (1376, 512), (4096, 4096) })
        {
            using var x = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(k, 1), new Shape(1, k), cpu);
            using var w = Tensor.From<float>(Infrastructure.BenchBackends.Uniform(n * k, 2), new Shape(n, k), cpu);
            using var wb = Cast.To(w, DType.BF16);
            using var c = Tensor.Zeros(new Shape(1, n), DType.F32, cpu);
            var options = new GemmOptions(TransposeB: true);
            var t = Interleaved.Median(() => Gemm.Multiply(x, wb, c, options), () => Gemm.Multiply(x, w, c, options));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"bf16-gemv\",\"n\":{n},\"k\":{k},\"threads\":1,\"f32_us\":{t.Peer * 1e6:F1},\"bf16_us\":{t.Ours * 1e6:F1}," +
                $"\"f32_gb_s\":{4.0 * n * k / t.Peer / 1e9:F1},\"bf16_gb_s\":{2.0 * n * k / t.Ours / 1e9:F1},\"speedup\":{t.Peer / t.Ours:F3},{t.SpreadJson}}}"));
        }
    }

    private static void Decode()
    {
        string dir = Path.Combine(Path.GetTempPath(), "hpccore-bf16-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "random-6x512.gguf");
            RandomLlamaModel.WriteGguf(path, new LmConfig(LmArchitecture.Llama, 512, 1376, 6, 8, 2, 8192, 2048), GgufTensorType.F32, seed: 7);
            using var cpu = new CpuBackend(threads: 1);
            var (config, weights, _) = LmModelFiles.Load(path, null, cpu);
            using var f32 = weights;
            using var bf16 = f32.ToBf16Linear();
            using var d32 = new LmDecoder(config, f32, cpu);
            using var d16 = new LmDecoder(config, bf16, cpu);
            var rng = new Random(3);
            int[] prompt = [1, .. Enumerable.Range(0, 15).Select(_ => rng.Next(3, config.VocabSize))];
            int[]? t32 = null, t16 = null;
            var t = Interleaved.Rounds([() => t16 = Greedy(d16, prompt), () => t32 = Greedy(d32, prompt)], rounds: 21, blockSeconds: 0, warmups: 2);
            var rates32 = t[1].Select(s => DecodeSteps / s).ToArray();
            var rates16 = t[0].Select(s => DecodeSteps / s).ToArray();
            int same = t32!.Zip(t16!).TakeWhile(p => p.First == p.Second).Count();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"bf16-decode\",\"model\":\"random-6x512-gqa\",\"threads\":1,\"steps\":{DecodeSteps}," +
                $"\"f32_tok_s\":{Interleaved.Quantile(rates32, 0.5):F1},\"f32_tok_s_p25_p75\":[{Interleaved.Quantile(rates32, 0.25):F1},{Interleaved.Quantile(rates32, 0.75):F1}]," +
                $"\"bf16_tok_s\":{Interleaved.Quantile(rates16, 0.5):F1},\"bf16_tok_s_p25_p75\":[{Interleaved.Quantile(rates16, 0.25):F1},{Interleaved.Quantile(rates16, 0.75):F1}]," +
                $"\"streamed_mb_f32\":{f32.StreamedBytes / 1e6:F1},\"streamed_mb_bf16\":{bf16.StreamedBytes / 1e6:F1}," +
                $"\"greedy_tokens_equal_before_first_difference\":{same},{Interleaved.SpreadJson(Interleaved.Ratios(t[1], t[0]))}}}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Prompt prefilled (untimed share is small: 16 tokens), then DecodeSteps greedy decode steps.
    private static int[] Greedy(LmDecoder decoder, int[] prompt)
    {
        decoder.Reset();
        var tokens = new int[DecodeSteps];
        int next = ArgMax(decoder.Prefill(prompt));
        for (int s = 0; s < DecodeSteps; s++)
        {
            tokens[s] = next;
            next = ArgMax(decoder.Decode(next));
        }
        return tokens;
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static void VitBase()
    {
        const int batch = 2;
        using var cpu = new CpuBackend(QuickBenchmarks.Threads);
        using var f32 = VitWeightsLoader.Random(VitConfig.Base, cpu, seed: 0);
        using var bf16 = f32.ToBf16Linear();
        var pixels = Infrastructure.BenchBackends.Uniform(batch * 3 * 224 * 224, 9);
        using var s32 = new VitSession(f32, batch);
        using var s16 = new VitSession(bf16, batch);
        var l32 = s32.Forward(pixels).ToArray<float>();
        var l16 = s16.Forward(pixels).ToArray<float>();
        double maxErr = 0, maxAbs = 0, sumSq = 0;
        for (int i = 0; i < l32.Length; i++)
        {
            double e = Math.Abs((double)l16[i] - l32[i]);
            maxErr = Math.Max(maxErr, e);
            maxAbs = Math.Max(maxAbs, Math.Abs(l32[i]));
            sumSq += (double)l32[i] * l32[i];
        }
        int classes = l32.Length / batch;
        int agree = Enumerable.Range(0, batch).Count(b => ArgMax(l32.AsSpan(b * classes, classes)) == ArgMax(l16.AsSpan(b * classes, classes)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"bf16-vit-b16\",\"weights\":\"random seed 0\",\"batch\":{batch},\"logits\":{l32.Length},\"max_abs_error\":{maxErr:G4}," +
            $"\"max_abs_logit\":{maxAbs:G4},\"rms_logit\":{Math.Sqrt(sumSq / l32.Length):G4},\"top1_agree\":{agree}}}"));
    }

    private static void VitTrained()
    {
        string repo = QuickDecodeLmFolders.Repository();
        using var cpu = new CpuBackend(QuickBenchmarks.Threads);
        using var f32 = VitWeightsLoader.Load(Path.Combine(repo, "assets/vit/vit-fmnist.safetensors"), cpu);
        using var bf16 = f32.ToBf16Linear();
        var images = ImageSet.LoadIdx(Path.Combine(repo, "assets/data/fashion-mnist"));
        var c = f32.Config;
        const int batch = 100;
        int px = c.Channels * c.ImageSize * c.ImageSize, n = images.Count / batch * batch;
        using var s32 = new VitSession(f32, batch);
        using var s16 = new VitSession(bf16, batch);
        var pixels = new float[batch * px];
        int correct32 = 0, correct16 = 0, differ = 0;
        double maxErr = 0;
        for (int start = 0; start < n; start += batch)
        {
            for (int i = 0; i < batch; i++)
                ImageTensor.Write(images.Image(start + i), images.Height, images.Width, c, pixels.AsSpan(i * px, px));
            var l32 = s32.Forward(pixels).ToArray<float>();
            var l16 = s16.Forward(pixels).ToArray<float>();
            for (int i = 0; i < batch; i++)
            {
                int p32 = ArgMax(l32.AsSpan(i * c.Classes, c.Classes)), p16 = ArgMax(l16.AsSpan(i * c.Classes, c.Classes));
                int label = images.Label(start + i);
                correct32 += p32 == label ? 1 : 0;
                correct16 += p16 == label ? 1 : 0;
                differ += p32 != p16 ? 1 : 0;
            }
            for (int i = 0; i < l32.Length; i++) maxErr = Math.Max(maxErr, Math.Abs((double)l16[i] - l32[i]));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"bf16-vit-fmnist\",\"images\":{n},\"f32_top1\":{100.0 * correct32 / n:F2},\"bf16_top1\":{100.0 * correct16 / n:F2}," +
            $"\"predictions_differing\":{differ},\"max_abs_logit_error\":{maxErr:G4}}}"));
    }

    private static void Perplexity()
    {
        string repo = QuickDecodeLmFolders.Repository();
        string text = File.ReadAllText(Path.Combine(repo, "tools/train/lm/persuasion-heldout.txt"));
        var models = new List<(string Name, string Model, string Tokenizer)>
        {
            ("austen", Path.Combine(repo, "tools/train/lm/austen.bin"), Path.Combine(repo, "tools/train/lm/bytes259.bin")),
        };
        if (QuickDecodeLmFolders.Stories() is { } stories)
            models.Insert(0, ("stories260K", Path.Combine(stories, "stories260K.bin"), Path.Combine(stories, "tok512.bin")));
        else
            Console.WriteLine("{\"bench\":\"bf16-perplexity\",\"model\":\"stories260K\",\"skipped\":\"stories260K not found (set HPCCORE_STORIES260K)\"}");
        using var cpu = new CpuBackend(QuickBenchmarks.Threads);
        foreach (var (name, model, tokenizer) in models)
        {
            var (config, weights, tok) = LmModelFiles.Load(model, tokenizer, cpu);
            using var f32 = weights;
            using var bf16 = f32.ToBf16Linear();
            var options = new LmEvalOptions(Windows: 8, PasskeyTrials: 2);
            var r32 = LmEvaluator.Run(config, f32, cpu, tok, text, "full", 1.0, options);
            var r16 = LmEvaluator.Run(config, bf16, cpu, tok, text, "full", 1.0, options);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"bf16-perplexity\",\"model\":\"{name}\",\"text\":\"persuasion-heldout\",\"windows\":8," +
                $"\"f32_ppl\":{r32.Perplexity:F4},\"bf16_ppl\":{r16.Perplexity:F4},\"relative_change\":{r16.Perplexity / r32.Perplexity - 1:+0.0000%;-0.0000%}," +
                $"\"f32_passkey\":\"{r32.PasskeyCorrect}/{r32.PasskeyTrials}\",\"bf16_passkey\":\"{r16.PasskeyCorrect}/{r16.PasskeyTrials}\"}}"));
        }
    }
}

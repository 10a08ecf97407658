// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ViT-B/16 at 224 (197 tokens, seeded random weights at the real size) through VitSession: the plain model against
// ToMe r=16 (ToMe reports 1.65x for ViT-B/16 at r=16 on a V100), interleaved in the same process. Batches come from
// HPCCORE_VITB_BATCHES (default "1,32"); a ViT-B batch of 32 is ~1.1 TFLOP, so budget minutes on a small CPU.
using System.Diagnostics;
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Vit;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick vit-b` benchmark: ToMe's throughput gain over the plain ViT-B/16.</summary>
public static class QuickVitBase
{
    /// <summary>Prints one JSON line per batch size.</summary>
    public static int Run()
    {
        var batches = (Environment.GetEnvironmentVariable("HPCCORE_VITB_BATCHES") ?? "1,32")
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("HPCCORE_VITB_ROUNDS"), out int r) && r > 0 ? r : 5;
        using var backend = new CpuBackend(QuickBenchmarks.Threads);
        var config = VitConfig.Base;
        using var weights = VitWeightsLoader.Random(config, backend, seed: 0);
        var spec = VitMethodSpec.Parse("tome:r=16");
        foreach (int batch in batches)
        {
            var pixels = Infrastructure.BenchBackends.Uniform(batch * 3 * 224 * 224, 9);
            using var plain = new VitSession(weights, batch);
            var reducer = VitReducers.Create(spec, config);
            try
            {
                using var tome = new VitSession(weights, batch, reducer);
                // Untimed first: the adaptive backend's cold, warm-up and early-try units of both sizes (it times a few
                // forwards each way, then tries the other way 4, 12 and 28 units later, before it settles; batch 1 is
                // below CpuBackend.AlwaysPooledCost).
                int warmups = batch == 1 ? SplitChooser.SettlingUnits : 1;
                var t = Interleaved.Median(() => plain.Forward(pixels), () => tome.Forward(pixels), rounds, blockSeconds: 0, warmups);
                double pa = batch / t.Ours, pb = batch / t.Peer;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"op\":\"vit-b16-tome\",\"batch\":{batch},\"baseline_images_per_s\":{pa:F2},\"tome_r16_images_per_s\":{pb:F2},\"speedup\":{pb / pa:F3},\"gflops_baseline\":{plain.FlopsPerImage / 1e9:F2},\"gflops_tome\":{tome.FlopsPerImage / 1e9:F2},\"final_tokens\":{tome.TokensAfterReduction[^1]},{Interleaved.SpreadJson(Interleaved.Ratios(t.OursRounds, t.PeerRounds))}}}"));
            }
            finally
            {
                (reducer as IDisposable)?.Dispose();
            }
        }
        return 0;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `quick selection`: the token-reduction building blocks on the CPU backend against simple in-process peers,
// interleaved, one JSON line per shape.
//  - TopK.Indices (radix select + stable radix sort of the survivors) against Array.Sort(keys, indices) of the
//    negated scores followed by taking the first k, for one row of N = 197 (ViT-B), 577 (ViT-B/384), 2880 (LLaVA
//    AnyRes), 16384 and 100000 tokens, k = 64 and N/2, checked to select the same scores in the same order.
//  - Similarity.BestMatch (ToMe's bipartite matching: a = ceil(N/2) rows against b = floor(N/2) rows, no [N/2, N/2]
//    matrix) against the materialising route Similarity.Cosine + Similarity.RowMax, C = 64 and 768.
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;

namespace HpcCore.Benchmarks.Quick;

/// <summary>The `quick selection` benchmark.</summary>
public static class SelectionQuick
{
    private static readonly int[] TopKLengths = [197, 577, 2880, 16384, 100_000];
    private static readonly int[] MatchTokens = [197, 577, 2880, 16384];
    private static readonly int[] MatchChannels = [64, 768];

    /// <summary>Runs every shape; returns 1 if ours and the peer disagree.</summary>
    public static int Run()
    {
        using var backend = new CpuBackend(QuickBenchmarks.Threads);
        return Math.Max(RunTopK(backend), RunBestMatch(backend));
    }

    private static int RunTopK(CpuBackend backend)
    {
        foreach (int n in TopKLengths)
        {
            var scores = Normal(n, n);
            using var t = Tensor.From<float>(scores, new Shape(1, n), backend);
            foreach (int k in new[] { 64, n / 2 })
            {
                using var dest = Tensor.Empty(new Shape(1, k), DType.I32, backend);
                var keys = new float[n];
                var idx = new int[n];

                void Ours() => TopK.Indices(t, k, dest);

                void Peer()
                {
                    for (int i = 0; i < n; i++)
                    {
                        keys[i] = -scores[i];
                        idx[i] = i;
                    }
                    Array.Sort(keys, idx);
                }

                Ours();
                Peer();
                // Same scores in the same order (random floats can repeat, and Array.Sort orders equal keys arbitrarily).
                var ours0 = dest.AsSpan<int>();
                bool same = true;
                for (int j = 0; j < k; j++) same &= scores[ours0[j]] == -keys[j];
                if (!same)
                {
                    Console.Error.WriteLine($"topk n={n} k={k}: ours and Array.Sort disagree");
                    return 1;
                }
                var timing = Interleaved.Median(Ours, Peer);
                var (ours, peer) = timing;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"op\":\"topk\",\"n\":{n},\"k\":{k},\"ours_us\":{ours * 1e6:F1},\"peer\":\"Array.Sort(keys, indices)\",\"peer_us\":{peer * 1e6:F1},\"speedup\":{peer / ours:F2},{timing.SpreadJson}}}"));
            }
        }
        return 0;
    }

    private static int RunBestMatch(CpuBackend backend)
    {
        foreach (int c in MatchChannels)
        foreach (int tokens in MatchTokens)
        {
            int na = (tokens + 1) / 2, nb = tokens / 2;
            var x = Normal(tokens * c, tokens + c);
            using var a = Tensor.From<float>(x.AsSpan(0, na * c), new Shape(1, na, c), backend);
            using var b = Tensor.From<float>(x.AsSpan(na * c, nb * c), new Shape(1, nb, c), backend);
            using var max = Tensor.Empty(new Shape(1, na), DType.F32, backend);
            using var arg = Tensor.Empty(new Shape(1, na), DType.I32, backend);
            using var cos = Tensor.Empty(new Shape(1, na, nb), DType.F32, backend);
            using var max2 = Tensor.Empty(new Shape(1, na), DType.F32, backend);
            using var arg2 = Tensor.Empty(new Shape(1, na), DType.I32, backend);

            void Ours() => Similarity.BestMatch(a, b, max, arg);

            void Peer()
            {
                Similarity.Cosine(a, b, cos);
                Similarity.RowMax(cos, max2, arg2);
            }

            Ours();
            Peer();
            int differ = 0;
            var m1 = max.AsSpan<float>();
            var m2 = max2.AsSpan<float>();
            for (int i = 0; i < na; i++)
                if (Math.Abs(m1[i] - m2[i]) > 1e-5f) differ++;
            if (differ > 0)
            {
                Console.Error.WriteLine($"bestmatch n={tokens} c={c}: {differ} maxima differ from cosine + rowmax");
                return 1;
            }
            // One call of the largest shapes takes ~1 s on two cores: fewer rounds there.
            double flops = 2.0 * na * nb * c;
            int rounds = flops > 2e10 ? 3 : flops > 1e9 ? 7 : 31;
            var timing = Interleaved.Median(Ours, Peer, rounds);
            var (ours, peer) = timing;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"op\":\"bestmatch\",\"tokens\":{tokens},\"a\":{na},\"b\":{nb},\"c\":{c},\"ours_us\":{ours * 1e6:F1},\"ours_gflops\":{flops / ours / 1e9:F1},\"peer\":\"Cosine+RowMax (materialised)\",\"peer_us\":{peer * 1e6:F1},\"speedup\":{peer / ours:F2},{timing.SpreadJson}}}"));
        }
        return 0;
    }

    private static float[] Normal(int count, int seed)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < count; i++)
            a[i] = (float)(Math.Sqrt(-2 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return a;
    }
}

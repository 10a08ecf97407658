// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The code blocks of docs/*.md marked `<!-- doctest: NAME -->`, compiled and run here. Each block is the text between
// `// doctest: NAME` and `// end doctest` below; DocsSyncTests fails when a block and its region differ.
namespace HpcCore.Tests.Docs;

using HpcCore.Devices;
using HpcCore.Models.KvCache;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;
using Xunit;

public sealed class DocsExamples
{
    [Fact]
    public void GettingStarted()
    {
        // doctest: getting-started
        using var backend = HpcRuntime.CreateDefault();                 // best device found: the CPU here
        var data = new float[1 * 197 * 12 * 64];                        // your activations, row-major
        using var q = Tensor.From<float>(data, new Shape(1, 197, 12, 64), backend); // [B, T, H, D]
        using var o = Attention.Forward(q, q, q);                      // softmax(q k^T / sqrt(D)) v, fused
        float[] result = o.ToArray<float>();
        // end doctest
        Assert.Equal(q.Shape, o.Shape);
        Assert.Equal(data.Length, result.Length);
    }

    [Fact]
    public void AttentionOptionsAndExports()
    {
        // doctest: attention-gqa
        using var backend = HpcRuntime.CreateDefault();
        var rng = new Random(1);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        using var q = Tensor.From<float>(Rand(2 * 16 * 8 * 32), new Shape(2, 16, 8, 32), backend); // H = 8
        using var k = Tensor.From<float>(Rand(2 * 16 * 2 * 32), new Shape(2, 16, 2, 32), backend); // Hkv = 2
        using var v = Tensor.From<float>(Rand(2 * 16 * 2 * 32), new Shape(2, 16, 2, 32), backend);
        using var received = Tensor.Zeros(new Shape(2, 8, 16), DType.F32, backend); // [B, H, Tk]
        using var o = Attention.Forward(q, k, v, new AttentionOptions(
            Causal: true,            // query t sees keys <= t + (Tk - Tq)
            WindowLeft: 4,           // ... and at most 4 to its left (sliding window)
            KeyTotals: received));   // export: attention each key received, summed over queries
        // end doctest
        Assert.Equal(new Shape(2, 16, 8, 32), o.Shape);
        // Every query row is a distribution: the totals over keys sum to Tq for each (b, h).
        float[] totals = received.ToArray<float>();
        for (int bh = 0; bh < 16; bh++) Assert.Equal(16f, totals.Skip(bh * 16).Take(16).Sum(), 3);
    }

    [Fact]
    public void ToMeBlockStep()
    {
        // doctest: tome-step
        using var backend = HpcRuntime.CreateDefault();
        var rng = new Random(2);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        const int B = 1, N = 197, H = 4, D = 16;
        using var x = Tensor.From<float>(Rand(B * N * H * D), new Shape(B, N, H * D), backend);
        using var qkv = x.Reshape(B, N, H, D);                          // stand-in for the block's q, k, v
        using var keyMeans = Tensor.Empty(new Shape(B, N, D), DType.F32, backend);
        using var attended = Attention.Forward(qkv, qkv, qkv, new AttentionOptions(KeyMeans: keyMeans));

        // Merge r = 16 tokens, protecting [CLS]; the metric is the keys averaged over heads (ToMe's k.mean(1)).
        using var plan = ToMe.Plan(keyMeans, 16, new ToMeOptions(ClassToken: true));
        var (merged, size) = ToMe.Merge(plan, x, size: null);            // [B, 181, C] and [B, 181]
        using (merged)
        using (size)
        using (var logSize = ToMe.LogSize(size))                          // proportional attention in later blocks
        using (var next = merged.Reshape(B, plan.OutputTokens, H, D))
        using (var o = Attention.Forward(next, next, next, new AttentionOptions(KeyBias: logSize)))
        {
            Console.WriteLine($"{N} -> {plan.OutputTokens} tokens, output {o.Shape}");
        }
        // end doctest
        Assert.Equal(N - 16, plan.OutputTokens);
        Assert.Equal(new Shape(B, N, H, D), attended.Shape);
    }

    [Fact]
    public void TopKPruning()
    {
        // doctest: pruning-topk
        using var backend = HpcRuntime.CreateDefault();
        var rng = new Random(3);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        const int B = 1, N = 65, H = 4, D = 16, Keep = 32;
        using var x = Tensor.From<float>(Rand(B * N * H * D), new Shape(B, N, H * D), backend);
        using var heads = x.Reshape(B, N, H, D);
        using var received = Tensor.Zeros(new Shape(B, H, N), DType.F32, backend);
        using var attended = Attention.Forward(heads, heads, heads, new AttentionOptions(KeyTotals: received));

        using var scores = Reductions.Mean(received, 1);                 // [B, N]: attention received, head mean
        using var top = TopK.Indices(scores, Keep);                      // [B, Keep], by score descending
        Selection.SortAscending(top, top);                                // back to token order (see "Ordering")
        using var kept = Gather.Rows(x, top);                             // [B, Keep, C]
        // end doctest
        Assert.Equal(new Shape(B, Keep, H * D), kept.Shape);
        int[] order = top.ToArray<int>();
        for (int i = 1; i < order.Length; i++) Assert.True(order[i - 1] < order[i]);
    }

    [Fact]
    public void KvDecide()
    {
        // doctest: kv-decide
        // H2O for one kv head: the attention each cached token received so far (its query heads' KeyTotals summed),
        // a budget of 6 of which the 3 newest are always kept.
        float[] received = [0.9f, 0.1f, 0.5f, 0.5f, 0.05f, 0.7f, 0.2f, 0.3f, 0.1f, 0.4f];
        var keep = new int[received.Length];
        int n = H2OKvPolicy.Decide(received, budget: 6, recent: 3, keep);
        // keep[..n] = [0, 2, 5, 7, 8, 9]: the 3 heaviest of 0..6 (0.9, 0.7, then the tie 0.5 goes to 2), the 3 newest.

        int m = StreamingLlmKvPolicy.Decide(count: 10, sinks: 2, budget: 6, keep);
        // keep[..m] = [0, 1, 6, 7, 8, 9]: the attention sinks and the newest tokens.
        // end doctest
        Assert.Equal(6, n);
        Assert.Equal([0, 1, 6, 7, 8, 9], keep[..m]);
        keep = new int[received.Length];
        H2OKvPolicy.Decide(received, budget: 6, recent: 3, keep);
        Assert.Equal([0, 2, 5, 7, 8, 9], keep[..6]);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Models.KvCache;
using HpcCore.Testing;
using Xunit;

/// <summary>
/// Paged ragged attention against a plain double reference: heads holding different token subsets, selections,
/// the compensation token (extra key with bias log n), and the exported statistics.
/// </summary>
public sealed class PagedAttentionTests
{
    /// <summary>Reference softmax attention of one query over explicit keys/values (+ optional biased extra key).</summary>
    internal static (double[] Out, double[] P) Reference(float[] q, IList<float[]> keys, IList<float[]> values, float[]? extraK = null,
        float[]? extraV = null, double extraBias = 0)
    {
        int d = q.Length, n = keys.Count + (extraK is null ? 0 : 1);
        var s = new double[n];
        for (int j = 0; j < n; j++)
        {
            var k = j < keys.Count ? keys[j] : extraK!;
            double dot = 0;
            for (int i = 0; i < d; i++) dot += (double)q[i] * k[i];
            s[j] = dot / Math.Sqrt(d) + (j < keys.Count ? 0 : extraBias);
        }
        double max = s.Max(), sum = 0;
        for (int j = 0; j < n; j++) sum += s[j] = Math.Exp(s[j] - max);
        var o = new double[d];
        for (int j = 0; j < n; j++)
        {
            s[j] /= sum;
            var v = j < values.Count ? values[j] : extraV!;
            for (int i = 0; i < d; i++) o[i] += s[j] * v[i];
        }
        return (o, s);
    }

    [Theory]
    [InlineData(1, 7, 1)]
    [InlineData(4, 31, 3)]
    [InlineData(8, 33, 5)]
    [InlineData(8, 129, 16)]
    [InlineData(16, 197, 16)]
    [InlineData(24, 31, 8)]
    [InlineData(32, 127, 32)]
    [InlineData(40, 33, 16)]
    public void RaggedHeads_WithSelectionAndCompensation_MatchReference(int d, int tokens, int pageTokens)
    {
        const int heads = 6, kvHeads = 3;
        var cache = new PagedKvCache(1, kvHeads, d, tokens, pageTokens);
        var keys = new List<float[]>[kvHeads];
        var values = new List<float[]>[kvHeads];
        for (int h = 0; h < kvHeads; h++)
        {
            keys[h] = [];
            values[h] = [];
            for (int t = 0; t < tokens - h; t++) // heads hold different counts
            {
                var k = TestData.Uniform(d, 1000 * h + t);
                var v = TestData.Uniform(d, 5000 * h + t);
                cache.Head(0, h).Append(k, v, t);
                keys[h].Add(k);
                values[h].Add(v);
            }
        }
        // Head 2 gets a compensation token for its first two tokens, then drops them.
        var hc = cache.Head(0, 2);
        if (hc.Count > 3)
        {
            hc.AddToCompensation(0);
            hc.AddToCompensation(1);
            var keep = Enumerable.Range(2, hc.Count - 2).ToArray();
            hc.Keep(keep);
        }
        var q = TestData.Uniform(heads * d, 77);
        var o = new float[heads * d];
        var scratch = new float[PagedAttention.ScratchLength(heads, tokens)];
        var capture = new float[heads * tokens];
        var selection = new KvSelection(kvHeads, tokens);
        int[] sel0 = Enumerable.Range(0, cache.Head(0, 0).Count).Where(i => i % 3 != 1).ToArray();
        sel0.CopyTo(selection.Buffer(0));
        selection.SetCount(0, sel0.Length);
        for (int h = 1; h < kvHeads; h++)
        {
            int c = cache.Head(0, h).Count;
            for (int i = 0; i < c; i++) selection.Buffer(h)[i] = i;
            selection.SetCount(h, c);
        }
        PagedAttention.Forward(cache, 0, q, o, 1, heads, tokens - 1, scratch,
            new PagedAttentionOptions(Selection: selection, UseCompensation: true, Capture: capture, CaptureStride: tokens, AccumulateScores: true));
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / 2;
            var ks = new List<float[]>();
            var vs = new List<float[]>();
            float[]? ek = null, ev = null;
            double bias = 0;
            if (kvh == 0)
            {
                foreach (int i in sel0) { ks.Add(keys[0][i]); vs.Add(values[0][i]); }
            }
            else if (kvh == 2 && tokens - 2 > 3)
            {
                ks.AddRange(keys[2].Skip(2));
                vs.AddRange(values[2].Skip(2));
                ek = Enumerable.Range(0, d).Select(i => (keys[2][0][i] + keys[2][1][i]) / 2).ToArray();
                ev = Enumerable.Range(0, d).Select(i => (values[2][0][i] + values[2][1][i]) / 2).ToArray();
                bias = Math.Log(2);
            }
            else
            {
                ks.AddRange(keys[kvh]);
                vs.AddRange(values[kvh]);
            }
            var (expected, p) = Reference(q[(h * d)..((h + 1) * d)], ks, vs, ek, ev, bias);
            for (int i = 0; i < d; i++) Assert.Equal(expected[i], o[h * d + i], 1e-5);
            if (kvh == 0)
                for (int j = 0; j < sel0.Length; j++) Assert.Equal(p[j], capture[h * tokens + sel0[j]], 1e-5);
        }
        // Accumulated scores: each kv head's two query heads each add a distribution over its tokens.
        var head1 = cache.Head(0, 1);
        double total = Enumerable.Range(0, head1.Count).Sum(i => head1.Score(i));
        Assert.Equal(2.0, total, 4);
        Assert.Equal(2, head1.Seen(0));
    }

    [Theory]
    [InlineData(8, 2, 129, 1)]
    [InlineData(8, 4, 197, 7)]
    [InlineData(32, 2, 127, 3)]
    [InlineData(64, 4, 300, 1)]
    public void WorkerPool_GivesTheSingleThreadResult_BitForBit(int d, int kvHeads, int tokens, int rows)
    {
        int heads = 2 * kvHeads;
        PagedKvCache Cache()
        {
            var c = new PagedKvCache(1, kvHeads, d, tokens, 16);
            for (int h = 0; h < kvHeads; h++)
            for (int t = 0; t < tokens - 3 * h; t++)
                c.Head(0, h).Append(TestData.Uniform(d, 1000 * h + t), TestData.Uniform(d, 7000 * h + t), t);
            return c;
        }
        var q = TestData.Uniform(rows * heads * d, 11);
        var options = (float[] capture) => new PagedAttentionOptions(AccumulateScores: true, WindowFromPosition: tokens - 2, Capture: capture, CaptureStride: tokens);
        var (serialCache, parallelCache) = (Cache(), Cache());
        var (serialOut, parallelOut) = (new float[q.Length], new float[q.Length]);
        var (serialCapture, parallelCapture) = (new float[rows * heads * tokens], new float[rows * heads * tokens]);
        PagedAttention.Forward(serialCache, 0, q, serialOut, rows, heads, tokens - rows, new float[PagedAttention.ScratchLength(heads, tokens)], options(serialCapture));
        using var pool = new HpcCore.Cpu.CpuWorkerPool(3);
        PagedAttention.Forward(pool, parallelCache, 0, q, parallelOut, rows, heads, tokens - rows, new float[PagedAttention.ScratchLength(heads, tokens)], options(parallelCapture));
        Assert.Equal(serialOut, parallelOut);
        Assert.Equal(serialCapture, parallelCapture);
        for (int h = 0; h < kvHeads; h++)
        for (int i = 0; i < serialCache.Head(0, h).Count; i++)
        {
            Assert.Equal(serialCache.Head(0, h).Score(i), parallelCache.Head(0, h).Score(i));
            Assert.Equal(serialCache.Head(0, h).WindowScore(i), parallelCache.Head(0, h).WindowScore(i));
            Assert.Equal(serialCache.Head(0, h).Seen(i), parallelCache.Head(0, h).Seen(i));
        }
        // And both are attention: the last row of head 0 against the reference.
        var head0 = serialCache.Head(0, 0);
        var keys = Enumerable.Range(0, head0.Count).Select(i => head0.Key(i).ToArray()).ToList();
        var values = Enumerable.Range(0, head0.Count).Select(i => head0.Value(i).ToArray()).ToList();
        int last = (rows - 1) * heads * d;
        var (expected, _) = Reference(q[last..(last + d)], keys, values);
        for (int i = 0; i < d; i++) Assert.Equal(expected[i], parallelOut[last + i], 1e-5);
    }

    [Fact]
    public void BadArguments_NameTheOpAndSizes()
    {
        var cache = new PagedKvCache(1, 2, 8, 10, 4);
        for (int t = 0; t < 5; t++)
        for (int h = 0; h < 2; h++) cache.Head(0, h).Append(new float[8], new float[8], t);
        var q = new float[4 * 8];
        using var pool = new HpcCore.Cpu.CpuWorkerPool(2);
        var small = Assert.Throws<ArgumentException>(() => PagedAttention.Forward(pool, cache, 0, q, new float[q.Length], 1, 4, 4, new float[10]));
        Assert.Contains("PagedAttention.Forward: scratch has 10 floats, needs 24", small.Message);
        var heads = Assert.Throws<ArgumentException>(() => PagedAttention.Forward(cache, 0, q, new float[q.Length], 1, 3, 4, new float[100]));
        Assert.Contains("heads = 3", heads.Message);
        var shape = Assert.Throws<ArgumentException>(() => PagedAttention.Forward(cache, 0, q, new float[8], 1, 4, 4, new float[100]));
        Assert.Contains("rows x heads x D = 1 x 4 x 8", shape.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PagedAttention.Forward(cache, 1, q, new float[q.Length], 1, 4, 4, new float[100]));
    }

    [Fact]
    public void ChunkRows_AreCausalByIndex()
    {
        const int d = 4, heads = 2, tokens = 9;
        var cache = new PagedKvCache(1, 1, d, tokens, 2);
        var keys = new List<float[]>();
        var values = new List<float[]>();
        for (int t = 0; t < tokens; t++)
        {
            keys.Add(TestData.Uniform(d, t));
            values.Add(TestData.Uniform(d, 100 + t));
            cache.Head(0, 0).Append(keys[t], values[t], t);
        }
        const int rows = 4;
        var q = TestData.Uniform(rows * heads * d, 5);
        var o = new float[rows * heads * d];
        PagedAttention.Forward(cache, 0, q, o, rows, heads, tokens - rows, new float[PagedAttention.ScratchLength(heads, tokens)]);
        for (int t = 0; t < rows; t++)
        for (int h = 0; h < heads; h++)
        {
            int visible = tokens - rows + t + 1;
            var (e, _) = Reference(q[((t * heads + h) * d)..((t * heads + h + 1) * d)], keys.Take(visible).ToList(), values.Take(visible).ToList());
            for (int i = 0; i < d; i++) Assert.Equal(e[i], o[(t * heads + h) * d + i], 1e-5);
        }
    }
}

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
        var scratch = new float[tokens + 1];
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
            for (int i = 0; i < d; i++) Assert.Equal(expected[i], o[h * d + i], 5);
            if (kvh == 0)
                for (int j = 0; j < sel0.Length; j++) Assert.Equal(p[j], capture[h * tokens + sel0[j]], 5);
        }
        // Accumulated scores: each kv head's two query heads each add a distribution over its tokens.
        var head1 = cache.Head(0, 1);
        double total = Enumerable.Range(0, head1.Count).Sum(i => head1.Score(i));
        Assert.Equal(2.0, total, 4);
        Assert.Equal(2, head1.Seen(0));
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
        PagedAttention.Forward(cache, 0, q, o, rows, heads, tokens - rows, new float[tokens + 1]);
        for (int t = 0; t < rows; t++)
        for (int h = 0; h < heads; h++)
        {
            int visible = tokens - rows + t + 1;
            var (e, _) = Reference(q[((t * heads + h) * d)..((t * heads + h + 1) * d)], keys.Take(visible).ToList(), values.Take(visible).ToList());
            for (int i = 0; i < d; i++) Assert.Equal(e[i], o[(t * heads + h) * d + i], 5);
        }
    }
}

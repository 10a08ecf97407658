// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Models.Encoder;
using HpcCore.Testing.Reference;

/// <summary>
/// A plain double-accumulating BERT forward (post-LN blocks, exact erf GELU or its tanh form, padding keys dropped),
/// one text at a time, from HF-named host tensors: the fast session is compared against it.
/// </summary>
internal static class EncoderReference
{
    /// <summary>Token reduction for the reference: ToMe with r per block, or EViT keeping a fraction at some blocks.</summary>
    public sealed record Reduction(int ToMeR = 0, double EvitKeep = 0, int[]? EvitLayers = null, double ToMeRatio = 0);

    /// <summary>Last hidden state [T, D] of one text of token <paramref name="ids"/>.</summary>
    public static double[][] Forward(EncoderConfig c, Dictionary<string, (float[] Data, int[] Shape)> w, int[] ids) =>
        Forward(c, w, ids, null, out _);

    /// <summary>
    /// Last hidden state of one text under <paramref name="reduction"/> (rows are the reduced tokens) and, in
    /// <paramref name="sizes"/>, how many input tokens each row stands for.
    /// </summary>
    public static double[][] Forward(EncoderConfig c, Dictionary<string, (float[] Data, int[] Shape)> w, int[] ids, Reduction? reduction, out double[] sizes)
    {
        int t = ids.Length, d = c.Hidden;
        float[] W(string name) => w[name].Data;
        var x = new double[t][];
        sizes = Enumerable.Repeat(1.0, t).ToArray();
        for (int i = 0; i < t; i++)
        {
            x[i] = new double[d];
            for (int j = 0; j < d; j++)
                x[i][j] = (double)W("embeddings.word_embeddings.weight")[ids[i] * d + j] + W("embeddings.position_embeddings.weight")[i * d + j]
                    + W("embeddings.token_type_embeddings.weight")[j];
            x[i] = Norm(x[i], W("embeddings.LayerNorm.weight"), W("embeddings.LayerNorm.bias"), c.LayerNormEpsilon);
        }
        bool merged = false;
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            var q = x.Select(r => Linear(r, W(p + "attention.self.query.weight"), W(p + "attention.self.query.bias"))).ToArray();
            var k = x.Select(r => Linear(r, W(p + "attention.self.key.weight"), W(p + "attention.self.key.bias"))).ToArray();
            var v = x.Select(r => Linear(r, W(p + "attention.self.value.weight"), W(p + "attention.self.value.bias"))).ToArray();
            bool tome = reduction is { ToMeR: > 0 } or { ToMeRatio: > 0 };
            var bias = tome && merged ? sizes.Select(s => Math.Log(s)).ToArray() : null;
            var att = Attend(q, k, v, c.Heads, c.HeadDim, bias, out var clsRow);
            var y = new double[x.Length][];
            for (int i = 0; i < x.Length; i++)
            {
                var o = Linear(att[i], W(p + "attention.output.dense.weight"), W(p + "attention.output.dense.bias"));
                y[i] = Norm(x[i].Zip(o, (a, b) => a + b).ToArray(), W(p + "attention.output.LayerNorm.weight"), W(p + "attention.output.LayerNorm.bias"), c.LayerNormEpsilon);
            }
            if (tome)
            {
                int r = reduction!.ToMeRatio > 0 ? (int)(reduction.ToMeRatio * y.Length) : reduction.ToMeR;
                (y, sizes) = ToMe(y, KeyMeans(k, c.Heads, c.HeadDim), sizes, r);
                merged = true;
            }
            else if (reduction is { EvitLayers: { } layers } evit && layers.Contains(l))
            {
                (y, sizes) = Evit(y, clsRow, sizes, evit.EvitKeep);
            }
            x = new double[y.Length][];
            for (int i = 0; i < y.Length; i++)
            {
                var h = Linear(y[i], W(p + "intermediate.dense.weight"), W(p + "intermediate.dense.bias")).Select(z => Gelu(z, c.TanhGelu)).ToArray();
                var f = Linear(h, W(p + "output.dense.weight"), W(p + "output.dense.bias"));
                x[i] = Norm(y[i].Zip(f, (a, b) => a + b).ToArray(), W(p + "output.LayerNorm.weight"), W(p + "output.LayerNorm.bias"), c.LayerNormEpsilon);
            }
        }
        return x;
    }

    private static double[][] KeyMeans(double[][] k, int heads, int dh) =>
        k.Select(row => Enumerable.Range(0, dh).Select(e => Enumerable.Range(0, heads).Sum(h => row[h * dh + e]) / heads).ToArray()).ToArray();

    // ToMe (Bolya et al. 2023): A = even positions but [CLS], B = odd; the r most similar A tokens merge into their
    // best B partner by size-weighted average; survivors keep position order.
    private static (double[][], double[]) ToMe(double[][] y, double[][] metric, double[] sizes, int r)
    {
        int n = y.Length;
        r = Math.Min(r, (n - 1) / 2);
        var a = Enumerable.Range(1, (n - 1) / 2).Select(i => 2 * i).ToArray();
        var b = Enumerable.Range(0, n / 2).Select(i => 2 * i + 1).ToArray();
        double Cos(double[] u, double[] z) => u.Zip(z, (p, q) => p * q).Sum() / Math.Sqrt(u.Sum(p => p * p) * z.Sum(q => q * q));
        var best = a.Select(i => b.Select(j => (Score: Cos(metric[i], metric[j]), J: j)).Aggregate((m, e) => e.Score > m.Score ? e : m)).ToArray();
        var merging = Enumerable.Range(0, a.Length).OrderByDescending(i => best[i].Score).ThenBy(i => i).Take(r).ToArray();
        var into = merging.ToDictionary(i => a[i], i => best[i].J);
        var kept = Enumerable.Range(0, n).Where(i => !into.ContainsKey(i)).ToArray();
        var rows = new double[kept.Length][];
        var newSizes = new double[kept.Length];
        for (int s = 0; s < kept.Length; s++)
        {
            var parts = into.Where(kv => kv.Value == kept[s]).Select(kv => kv.Key).Append(kept[s]).ToArray();
            newSizes[s] = parts.Sum(i => sizes[i]);
            rows[s] = new double[y[0].Length];
            foreach (int i in parts)
                for (int e = 0; e < rows[s].Length; e++) rows[s][e] += sizes[i] / newSizes[s] * y[i][e];
        }
        return (rows, newSizes);
    }

    // EViT (Liang et al. 2022): keep [CLS] and the ceil(keep (n - 1)) most attended tokens, fuse the rest weighted by
    // their [CLS] attention (averaged over heads) into one token after the kept ones.
    private static (double[][], double[]) Evit(double[][] y, double[] cls, double[] sizes, double keep)
    {
        int n = y.Length, kept = (int)Math.Min(n - 1, Math.Ceiling(keep * (n - 1) - 1e-9));
        if (kept == n - 1) return (y, sizes);
        var top = Enumerable.Range(1, n - 1).OrderByDescending(i => cls[i]).ThenBy(i => i).Take(kept).Prepend(0).Order().ToArray();
        var rest = Enumerable.Range(1, n - 1).Except(top).ToArray();
        double total = rest.Sum(i => cls[i]);
        var fused = new double[y[0].Length];
        foreach (int i in rest)
            for (int e = 0; e < fused.Length; e++) fused[e] += cls[i] / total * y[i][e];
        return ([.. top.Select(i => y[i]), fused], [.. top.Select(i => sizes[i]), rest.Sum(i => sizes[i])]);
    }

    /// <summary>Pooled (mean weighted by size, or row 0) and L2-normalised embedding.</summary>
    public static double[] Pool(double[][] hidden, double[] sizes, EncoderPooling pooling)
    {
        int d = hidden[0].Length;
        var e = new double[d];
        if (pooling == EncoderPooling.Cls) Array.Copy(hidden[0], e, d);
        else
            for (int i = 0; i < hidden.Length; i++)
                for (int j = 0; j < d; j++) e[j] += sizes[i] / sizes.Sum() * hidden[i][j];
        double norm = Math.Sqrt(e.Sum(z => z * z));
        return e.Select(z => z / Math.Max(norm, 1e-12)).ToArray();
    }

    private static double[] Linear(double[] x, float[] weight, float[] bias)
    {
        int outs = bias.Length, ins = x.Length;
        var y = new double[outs];
        for (int o = 0; o < outs; o++)
        {
            double s = bias[o];
            for (int i = 0; i < ins; i++) s += (double)weight[o * ins + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private static double[][] Attend(double[][] q, double[][] k, double[][] v, int heads, int dh, double[]? keyBias, out double[] clsRow)
    {
        int t = q.Length;
        clsRow = new double[t];
        var o = new double[t][];
        for (int i = 0; i < t; i++) o[i] = new double[heads * dh];
        double scale = 1 / Math.Sqrt(dh);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++)
            {
                var s = new double[t];
                for (int j = 0; j < t; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < dh; e++) dot += q[i][h * dh + e] * k[j][h * dh + e];
                    s[j] = dot * scale + (keyBias?[j] ?? 0);
                }
                double max = s.Max(), sum = 0;
                for (int j = 0; j < t; j++) sum += s[j] = Math.Exp(s[j] - max);
                if (i == 0)
                    for (int j = 0; j < t; j++) clsRow[j] += s[j] / sum / heads;
                for (int j = 0; j < t; j++)
                    for (int e = 0; e < dh; e++) o[i][h * dh + e] += s[j] / sum * v[j][h * dh + e];
            }
        return o;
    }

    private static double[] Norm(double[] x, float[] gamma, float[] beta, double eps)
    {
        double mean = x.Average(), variance = x.Select(z => (z - mean) * (z - mean)).Average();
        double inv = 1 / Math.Sqrt(variance + eps);
        return x.Select((z, j) => (z - mean) * inv * gamma[j] + beta[j]).ToArray();
    }

    private static double Gelu(double x, bool tanh) => tanh
        ? 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
        : 0.5 * x * (1 + ReferenceElementwise.Erf(x / Math.Sqrt(2)));
}

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
    /// <summary>Last hidden state [T, D] of one text of token <paramref name="ids"/>.</summary>
    public static double[][] Forward(EncoderConfig c, Dictionary<string, (float[] Data, int[] Shape)> w, int[] ids)
    {
        int t = ids.Length, d = c.Hidden;
        float[] W(string name) => w[name].Data;
        var x = new double[t][];
        for (int i = 0; i < t; i++)
        {
            x[i] = new double[d];
            for (int j = 0; j < d; j++)
                x[i][j] = (double)W("embeddings.word_embeddings.weight")[ids[i] * d + j] + W("embeddings.position_embeddings.weight")[i * d + j]
                    + W("embeddings.token_type_embeddings.weight")[j];
            x[i] = Norm(x[i], W("embeddings.LayerNorm.weight"), W("embeddings.LayerNorm.bias"), c.LayerNormEpsilon);
        }
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            var q = x.Select(r => Linear(r, W(p + "attention.self.query.weight"), W(p + "attention.self.query.bias"))).ToArray();
            var k = x.Select(r => Linear(r, W(p + "attention.self.key.weight"), W(p + "attention.self.key.bias"))).ToArray();
            var v = x.Select(r => Linear(r, W(p + "attention.self.value.weight"), W(p + "attention.self.value.bias"))).ToArray();
            var att = Attend(q, k, v, c.Heads, c.HeadDim);
            for (int i = 0; i < t; i++)
            {
                var o = Linear(att[i], W(p + "attention.output.dense.weight"), W(p + "attention.output.dense.bias"));
                var y = Norm(x[i].Zip(o, (a, b) => a + b).ToArray(), W(p + "attention.output.LayerNorm.weight"), W(p + "attention.output.LayerNorm.bias"), c.LayerNormEpsilon);
                var h = Linear(y, W(p + "intermediate.dense.weight"), W(p + "intermediate.dense.bias")).Select(z => Gelu(z, c.TanhGelu)).ToArray();
                var f = Linear(h, W(p + "output.dense.weight"), W(p + "output.dense.bias"));
                x[i] = Norm(y.Zip(f, (a, b) => a + b).ToArray(), W(p + "output.LayerNorm.weight"), W(p + "output.LayerNorm.bias"), c.LayerNormEpsilon);
            }
        }
        return x;
    }

    /// <summary>Pooled (mean over all rows, or row 0) and L2-normalised embedding of a last hidden state.</summary>
    public static double[] Pool(double[][] hidden, EncoderPooling pooling)
    {
        int d = hidden[0].Length;
        var e = new double[d];
        if (pooling == EncoderPooling.Cls) Array.Copy(hidden[0], e, d);
        else
            foreach (var row in hidden)
                for (int j = 0; j < d; j++) e[j] += row[j] / hidden.Length;
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

    private static double[][] Attend(double[][] q, double[][] k, double[][] v, int heads, int dh)
    {
        int t = q.Length;
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
                    s[j] = dot * scale;
                }
                double max = s.Max(), sum = 0;
                for (int j = 0; j < t; j++) sum += s[j] = Math.Exp(s[j] - max);
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

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop double-precision ViT written from the definition (timm's VisionTransformer.forward), the slow twin of
// VitSession. keepAfter[l] (optional) keeps the first keepAfter[l] tokens after block l's attention residual: the
// TruncatingReducer's semantics, to test the session's reduction plumbing. select (optional) is a restated method:
// given block l's tokens after the attention residual and its attention probabilities, it returns the token rows to
// continue with (null: keep them all).
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Models.Vit;

/// <summary>Block l's tokens after the attention residual ([T][D]) and probabilities ([H][T][T]) -> the next tokens.</summary>
internal delegate List<double[]>? ReferenceSelect(int image, int layer, List<double[]> x, double[][][] probabilities);

internal static class VitReference
{
    public static double[][] Logits(VitWeights w, float[] pixels, int batch, int[]? keepAfter = null, ReferenceSelect? select = null)
    {
        var c = w.Config;
        int d = c.Dim, n = c.Patches, p = c.PatchSize, s = c.ImageSize, g = c.Grid, h = c.Heads, dh = c.HeadDim;
        double[] F(HpcCore.Tensors.Tensor t) => t.ToArray<float>().Select(v => (double)v).ToArray();
        var pw = F(w.PatchWeight);
        var pb = F(w.PatchBias);
        var cls = F(w.ClassToken);
        var pos = F(w.Positions);
        var result = new double[batch][];
        for (int b = 0; b < batch; b++)
        {
            var x = new List<double[]>();
            var t0 = new double[d];
            for (int i = 0; i < d; i++) t0[i] = cls[i] + pos[i];
            x.Add(t0);
            for (int gy = 0; gy < g; gy++)
                for (int gx = 0; gx < g; gx++)
                {
                    var tok = new double[d];
                    for (int o = 0; o < d; o++)
                    {
                        double acc = pb[o];
                        for (int ch = 0; ch < c.Channels; ch++)
                            for (int ky = 0; ky < p; ky++)
                                for (int kx = 0; kx < p; kx++)
                                    acc += pw[((o * c.Channels + ch) * p + ky) * p + kx]
                                        * pixels[((b * c.Channels + ch) * s + gy * p + ky) * s + gx * p + kx];
                        tok[o] = acc + pos[(1 + gy * g + gx) * d + o];
                    }
                    x.Add(tok);
                }
            for (int l = 0; l < c.Depth; l++)
            {
                var bw = w.Blocks[l];
                int t = x.Count;
                var qkv = x.Select(r => Linear(LayerNorm(r, F(bw.Norm1Weight), F(bw.Norm1Bias), c.LayerNormEpsilon), F(bw.QkvWeight), F(bw.QkvBias))).ToArray();
                var att = new double[t][];
                for (int i = 0; i < t; i++) att[i] = new double[d];
                var probs = new double[h][][];
                for (int head = 0; head < h; head++) probs[head] = new double[t][];
                for (int head = 0; head < h; head++)
                    for (int i = 0; i < t; i++)
                    {
                        var logits = new double[t];
                        double max = double.NegativeInfinity;
                        for (int j = 0; j < t; j++)
                        {
                            double dot = 0;
                            for (int e = 0; e < dh; e++) dot += qkv[i][head * dh + e] * qkv[j][d + head * dh + e];
                            logits[j] = dot / Math.Sqrt(dh);
                            max = Math.Max(max, logits[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < t; j++) sum += logits[j] = Math.Exp(logits[j] - max);
                        probs[head][i] = logits.Select(v => v / sum).ToArray();
                        for (int j = 0; j < t; j++)
                            for (int e = 0; e < dh; e++) att[i][head * dh + e] += logits[j] / sum * qkv[j][2 * d + head * dh + e];
                    }
                for (int i = 0; i < t; i++)
                {
                    var proj = Linear(att[i], F(bw.ProjWeight), F(bw.ProjBias));
                    for (int e = 0; e < d; e++) x[i][e] += proj[e];
                }
                if (keepAfter is not null) x = x.Take(keepAfter[l]).ToList();
                if (select?.Invoke(b, l, x, probs) is { } next) x = next;
                foreach (var r in x)
                {
                    var hid = Linear(LayerNorm(r, F(bw.Norm2Weight), F(bw.Norm2Bias), c.LayerNormEpsilon), F(bw.Fc1Weight), F(bw.Fc1Bias));
                    for (int e = 0; e < hid.Length; e++) hid[e] = 0.5 * hid[e] * (1 + Erf(hid[e] / Math.Sqrt(2)));
                    var o = Linear(hid, F(bw.Fc2Weight), F(bw.Fc2Bias));
                    for (int e = 0; e < d; e++) r[e] += o[e];
                }
            }
            result[b] = Linear(LayerNorm(x[0], F(w.NormWeight), F(w.NormBias), c.LayerNormEpsilon), F(w.HeadWeight), F(w.HeadBias));
        }
        return result;
    }

    private static double[] LayerNorm(double[] x, double[] gamma, double[] beta, double eps)
    {
        double mean = x.Average(), var = x.Select(v => (v - mean) * (v - mean)).Average();
        return x.Select((v, i) => (v - mean) / Math.Sqrt(var + eps) * gamma[i] + beta[i]).ToArray();
    }

    // y = W x + b with W [out, in] (nn.Linear's layout).
    private static double[] Linear(double[] x, double[] w, double[] b)
    {
        var y = new double[b.Length];
        for (int o = 0; o < y.Length; o++)
        {
            double acc = b[o];
            for (int i = 0; i < x.Length; i++) acc += w[o * x.Length + i] * x[i];
            y[o] = acc;
        }
        return y;
    }

    // erf from its Maclaurin series for |x| < 4 (cancellation costs at most e^16 ~ 1e7 ulp, ~1e-9 absolute) and
    // from erfc's asymptotic expansion beyond (erfc(4) = 1.5e-8, so a relative 1e-4 error there is 1e-12).
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 4)
        {
            double inv = 1 / (2 * ax * ax), series = 1 - inv + 3 * inv * inv - 15 * inv * inv * inv;
            return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / (ax * Math.Sqrt(Math.PI)) * series);
        }
        double sum = 0, term = ax;
        for (int k = 0; k < 400; k++)
        {
            double add = term / (2 * k + 1);
            sum += add;
            if (Math.Abs(add) < 1e-18) break;
            term *= -ax * ax / (k + 1);
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
    }
}

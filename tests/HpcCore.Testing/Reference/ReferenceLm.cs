// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop decoder-only LM forward in double precision, written from the definitions (llama2.c's run.c for
// Llama blocks, Radford et al. 2019 / Hugging Face GPT2Model for GPT-2 blocks): the oracle for LmDecoder.
namespace HpcCore.Testing.Reference;

/// <summary>One block's parameters as row-major float arrays in nn.Linear layout [out, in]; biases null for Llama.</summary>
public sealed record ReferenceLmLayer(
    float[] AttnNorm, float[]? AttnNormBias, float[] Wq, float[] Wk, float[] Wv, float[] Wo,
    float[]? Bq, float[]? Bk, float[]? Bv, float[]? Bo, float[] FfnNorm, float[]? FfnNormBias,
    float[] Up, float[]? UpBias, float[]? Gate, float[] Down, float[]? DownBias);

/// <summary>A whole model for <see cref="ReferenceLm"/>; Llama when <see cref="Llama"/>, else GPT-2.</summary>
public sealed record ReferenceLmModel(
    bool Llama, int Dim, int Hidden, int Heads, int KvHeads, int Vocab, double Epsilon, double RopeTheta, bool RopeInterleaved,
    float[] Embedding, float[]? PositionEmbedding, ReferenceLmLayer[] Layers, float[] FinalNorm, float[]? FinalNormBias, float[] Classifier);

/// <summary>Full causal forward of a token sequence; returns logits [T, V].</summary>
public static class ReferenceLm
{
    /// <summary>
    /// Logits for every position of <paramref name="tokens"/>. When <paramref name="keep"/> is given, query position
    /// t in layer l attends only to keys j for which keep(l, kvHead, t, j) is true (eviction oracles). Llama's RoPE
    /// rotates token t at <paramref name="positions"/>[t] when given (a VLM's pruned visual tokens), else at t.
    /// </summary>
    public static double[,] Forward(ReferenceLmModel m, int[] tokens, Func<int, int, int, int, bool>? keep = null, int[]? positions = null)
    {
        int T = tokens.Length, C = m.Dim, H = m.Heads, D = C / H, kvDim = m.KvHeads * D, G = H / m.KvHeads;
        var x = new double[T, C];
        for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++)
            x[t, c] = m.Embedding[tokens[t] * C + c] + (m.PositionEmbedding is null ? 0 : m.PositionEmbedding[t * C + c]);
        for (int l = 0; l < m.Layers.Length; l++)
        {
            var L = m.Layers[l];
            var h = Norm(m, x, L.AttnNorm, L.AttnNormBias);
            var q = Linear(h, L.Wq, L.Bq, C);
            var k = Linear(h, L.Wk, L.Bk, kvDim);
            var v = Linear(h, L.Wv, L.Bv, kvDim);
            if (m.Llama)
            {
                Rope(m, q, H, D, positions);
                Rope(m, k, m.KvHeads, D, positions);
            }
            var att = new double[T, C];
            for (int t = 0; t < T; t++)
            for (int hh = 0; hh < H; hh++)
            {
                int kvh = hh / G;
                var s = new double[t + 1];
                double max = double.NegativeInfinity;
                for (int j = 0; j <= t; j++)
                {
                    if (keep is not null && !keep(l, kvh, t, j)) { s[j] = double.NegativeInfinity; continue; }
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += q[t, hh * D + d] * k[j, kvh * D + d];
                    s[j] = dot / Math.Sqrt(D);
                    max = Math.Max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) sum += s[j] = Math.Exp(s[j] - max);
                for (int j = 0; j <= t; j++)
                for (int d = 0; d < D; d++)
                    att[t, hh * D + d] += s[j] / sum * v[j, kvh * D + d];
            }
            AddInPlace(x, Linear(att, L.Wo, L.Bo, C));
            var f = Norm(m, x, L.FfnNorm, L.FfnNormBias);
            var up = Linear(f, L.Up, L.UpBias, m.Hidden);
            if (L.Gate is not null)
            {
                var gate = Linear(f, L.Gate, null, m.Hidden);
                for (int t = 0; t < T; t++)
                for (int i = 0; i < m.Hidden; i++)
                    up[t, i] *= gate[t, i] / (1 + Math.Exp(-gate[t, i]));
            }
            else
            {
                for (int t = 0; t < T; t++)
                for (int i = 0; i < m.Hidden; i++)
                {
                    double u = up[t, i];
                    up[t, i] = 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
                }
            }
            AddInPlace(x, Linear(up, L.Down, L.DownBias, C));
        }
        return Linear(Norm(m, x, m.FinalNorm, m.FinalNormBias), m.Classifier, null, m.Vocab);
    }

    private static double[,] Norm(ReferenceLmModel m, double[,] x, float[] gamma, float[]? beta)
    {
        int T = x.GetLength(0), C = x.GetLength(1);
        var y = new double[T, C];
        for (int t = 0; t < T; t++)
        {
            double mean = 0, sq = 0;
            for (int c = 0; c < C; c++) mean += x[t, c];
            mean = m.Llama ? 0 : mean / C;
            for (int c = 0; c < C; c++) sq += (x[t, c] - mean) * (x[t, c] - mean);
            double inv = 1 / Math.Sqrt(sq / C + m.Epsilon);
            for (int c = 0; c < C; c++) y[t, c] = (x[t, c] - mean) * inv * gamma[c] + (beta is null ? 0 : beta[c]);
        }
        return y;
    }

    private static double[,] Linear(double[,] x, float[] w, float[]? b, int outDim)
    {
        int T = x.GetLength(0), inDim = x.GetLength(1);
        var y = new double[T, outDim];
        for (int t = 0; t < T; t++)
        for (int o = 0; o < outDim; o++)
        {
            double acc = b is null ? 0 : b[o];
            for (int i = 0; i < inDim; i++) acc += x[t, i] * w[(long)o * inDim + i];
            y[t, o] = acc;
        }
        return y;
    }

    private static void Rope(ReferenceLmModel m, double[,] x, int heads, int d, int[]? positions)
    {
        int T = x.GetLength(0);
        for (int t = 0; t < T; t++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < d / 2; i++)
        {
            double angle = (positions is null ? t : positions[t]) * Math.Pow(m.RopeTheta, -2.0 * i / d);
            int a = h * d + (m.RopeInterleaved ? 2 * i : i), b = h * d + (m.RopeInterleaved ? 2 * i + 1 : i + d / 2);
            double x0 = x[t, a], x1 = x[t, b];
            x[t, a] = x0 * Math.Cos(angle) - x1 * Math.Sin(angle);
            x[t, b] = x0 * Math.Sin(angle) + x1 * Math.Cos(angle);
        }
    }

    private static void AddInPlace(double[,] x, double[,] y)
    {
        for (int t = 0; t < x.GetLength(0); t++)
        for (int c = 0; c < x.GetLength(1); c++)
            x[t, c] += y[t, c];
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Cosine similarity, best match, row max, PageRank and the greedy selections, in double from their definitions.
// Argmax-type references also report their margin (best minus runner-up): where a float kernel's rounding could
// legitimately flip a near-tie, tests compare the index only when the margin exceeds the float error.
namespace HpcCore.Testing.Reference;

/// <summary>Reference similarity, graph and greedy ops.</summary>
public static class ReferenceSimilarity
{
    /// <summary>cos(a_i, b_j) over [B, N, C] x [B, M, C], 0 where a norm is 0.</summary>
    public static double[] Cosine(float[] a, float[] b, int batch, int n, int m, int c)
    {
        var r = new double[batch * n * m];
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++)
                    r[(t * n + i) * m + j] = Cos(a, (t * n + i) * c, b, (t * m + j) * c, c);
        return r;
    }

    /// <summary>Cosine of two rows of length c.</summary>
    public static double Cos(float[] a, int ia, float[] b, int ib, int c)
    {
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < c; k++)
        {
            dot += (double)a[ia + k] * b[ib + k];
            na += (double)a[ia + k] * a[ia + k];
            nb += (double)b[ib + k] * b[ib + k];
        }
        return na == 0 || nb == 0 ? 0 : dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }

    /// <summary>Row max, argmax (NaN skipped, ties lower) and margin to the runner-up value, over [rows, m] values.</summary>
    public static (double[] Max, int[] Argmax, double[] Margin) RowMax(double[] x, int rows, int m, int first = 0)
    {
        var max = new double[rows];
        var arg = new int[rows];
        var margin = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double best = double.NegativeInfinity, second = double.NegativeInfinity;
            int ai = -1;
            for (int j = first; j < m; j++)
            {
                double v = x[r * m + j];
                if (double.IsNaN(v)) continue;
                if (ai < 0 || v > best)
                {
                    if (ai >= 0) second = best;
                    best = v;
                    ai = j;
                }
                else second = Math.Max(second, v);
            }
            max[r] = best;
            arg[r] = ai;
            margin[r] = best - second;
        }
        return (max, arg, margin);
    }

    /// <summary>Power iteration s_{t+1}[j] = sum_i s_t[i] M[i, j] per slice of [S, N, N].</summary>
    public static double[] PageRank(float[] m, float[]? initial, int slices, int n, int iterations)
    {
        var r = new double[slices * n];
        for (int s = 0; s < slices; s++)
        {
            var cur = new double[n];
            for (int i = 0; i < n; i++) cur[i] = initial is null ? 1.0 / n : initial[s * n + i];
            for (int t = 0; t < iterations; t++)
            {
                var next = new double[n];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) next[j] += cur[i] * m[(s * n + i) * n + j];
                cur = next;
            }
            Array.Copy(cur, 0, r, s * n, n);
        }
        return r;
    }

    /// <summary>Greedy farthest point under 1 - cos; also the smallest margin of any pick over its runner-up.</summary>
    public static (int[] Picks, double MinMargin) FarthestPoint(float[] x, int[]? seeds, int batch, int n, int c, int k)
    {
        var picks = new int[batch * k];
        double minMargin = double.PositiveInfinity;
        for (int b = 0; b < batch; b++)
        {
            if (k == 0) break;
            var dist = new double[n];
            var chosen = new bool[n];
            Array.Fill(dist, double.PositiveInfinity);
            int pick = seeds is null ? 0 : seeds[b];
            for (int step = 0; ; step++)
            {
                picks[b * k + step] = pick;
                chosen[pick] = true;
                if (step + 1 == k) break;
                for (int i = 0; i < n; i++) dist[i] = Math.Min(dist[i], 1 - Cos(x, (b * n + i) * c, x, (b * n + pick) * c, c));
                (pick, double margin) = Best(dist, chosen);
                minMargin = Math.Min(minMargin, margin);
            }
        }
        return (picks, minMargin);
    }

    /// <summary>Greedy weighted max coverage; also the smallest margin of any pick over its runner-up.</summary>
    public static (int[] Picks, double MinMargin) Coverage(float[] s, float[]? w, int batch, int u, int n, int k)
    {
        var picks = new int[batch * k];
        double minMargin = double.PositiveInfinity;
        for (int b = 0; b < batch; b++)
        {
            var cov = new double[u];
            var picked = new bool[n];
            for (int step = 0; step < k; step++)
            {
                var gain = new double[n];
                for (int v = 0; v < n; v++)
                    for (int q = 0; q < u; q++)
                        gain[v] += (w is null ? 1 : w[b * u + q]) * Math.Max(s[(b * u + q) * n + v] - cov[q], 0);
                (int pick, double margin) = Best(gain, picked);
                minMargin = Math.Min(minMargin, margin);
                picks[b * k + step] = pick;
                picked[pick] = true;
                for (int q = 0; q < u; q++) cov[q] = Math.Max(cov[q], s[(b * u + q) * n + pick]);
            }
        }
        return (picks, minMargin);
    }

    // Argmax over unflagged entries, ties lower, and the margin to the runner-up (0 for an exact tie, inf if alone).
    private static (int Index, double Margin) Best(double[] v, bool[] flagged)
    {
        int arg = -1;
        double best = double.NegativeInfinity, second = double.NegativeInfinity;
        for (int i = 0; i < v.Length; i++)
        {
            if (flagged[i]) continue;
            if (arg < 0 || v[i] > best)
            {
                if (arg >= 0) second = best;
                best = v[i];
                arg = i;
            }
            else second = Math.Max(second, v[i]);
        }
        return (arg, best - second);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain references for the score-then-select methods (methods.md 3.2-3.6, 3.8-3.10), one batch row at a time,
// written from the formulas with double arithmetic.
namespace HpcCore.Testing.Reference.TokenReduction;

/// <summary>Reference scorers and selectors.</summary>
public static class ReferenceSelectors
{
    /// <summary>combine_h P[b, h, row, 1:] of rowProbabilities [B, H, nRows, Nk]; returns [Nk - 1] for batch row b.</summary>
    public static double[] ClassRow(float[] probs, int b, int heads, int rows, int nk, int row, bool sum = false)
    {
        var s = new double[nk - 1];
        for (int h = 0; h < heads; h++)
            for (int j = 1; j < nk; j++) s[j - 1] += probs[((b * heads + h) * rows + row) * nk + j];
        if (!sum) for (int j = 0; j < s.Length; j++) s[j] /= heads;
        return s;
    }

    /// <summary>mean_h KeyTotals[b, h, skip:] / queries.</summary>
    public static double[] Received(float[] totals, int b, int heads, int nk, int queries, int skip)
    {
        var s = new double[nk - skip];
        for (int h = 0; h < heads; h++)
            for (int j = skip; j < nk; j++) s[j - skip] += totals[(b * heads + h) * nk + j];
        for (int j = 0; j < s.Length; j++) s[j] /= heads * (double)queries;
        return s;
    }

    /// <summary>
    /// EViT for one row: x [N, C], a [N - 1]. Output [CLS, top-k patches by score, fused] with fusion 0 = sum,
    /// 1 = average, 2 = drop.
    /// </summary>
    public static double[] Evit(float[] x, int n, int c, double[] a, int keep, int fusion, out int[] kept)
    {
        var top = ReferenceScores.Top(a, keep);
        bool fuse = fusion != 2 && keep < n - 1;
        int m = 1 + keep + (fuse ? 1 : 0);
        var y = new double[m * c];
        for (int k = 0; k < c; k++) y[k] = x[k];
        for (int i = 0; i < keep; i++)
            for (int k = 0; k < c; k++) y[(1 + i) * c + k] = x[(1 + top[i]) * c + k];
        if (fuse)
        {
            var dropped = Enumerable.Range(0, n - 1).Except(top).ToArray();
            double total = dropped.Sum(j => a[j]);
            foreach (int j in dropped)
            {
                double w = fusion == 1 ? (total > 0 ? a[j] / total : 0) : a[j];
                for (int k = 0; k < c; k++) y[(m - 1) * c + k] += w * x[(1 + j) * c + k];
            }
        }
        kept = [0, .. top.Select(j => j + 1)];
        return y;
    }

    /// <summary>Top-k then ascending (VTC-CLS, ToDRE stage 2).</summary>
    public static int[] TopAscending(double[] s, int keep) => ReferenceScores.Top(s, keep).Order().ToArray();

    /// <summary>FoPru's row strategy for one row: whole rows by summed score, the remainder from the next row by score.</summary>
    public static int[] FoPruRows(double[] s, int keep, int width)
    {
        int rows = s.Length / width;
        var rowScore = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, width).Sum(j => s[r * width + j])).ToArray();
        var order = ReferenceScores.Order(rowScore);
        var kept = new List<int>();
        for (int i = 0; i < keep / width; i++) kept.AddRange(Enumerable.Range(order[i] * width, width));
        if (keep % width > 0)
        {
            int row = order[keep / width];
            kept.AddRange(ReferenceScores.Top(s[(row * width)..((row + 1) * width)], keep % width).Select(j => row * width + j));
        }
        return kept.Order().ToArray();
    }

    /// <summary>HiPrune for one row (methods.md 3.6); anchors then buffers cut at the budget, registers fill it.</summary>
    public static int[] HiPrune(double[] obj, double[] deep, int keep, int width, double alpha, bool wrapRows)
    {
        int p = obj.Length;
        int anchors = Math.Min((int)Math.Round(keep * alpha / 5, MidpointRounding.ToEven), p);
        var chosen = new List<int>();
        void Add(int t)
        {
            if (chosen.Count < keep && !chosen.Contains(t)) chosen.Add(t);
        }
        foreach (int a in ReferenceScores.Top(obj, anchors))
        {
            Add(a);
            int[] around = wrapRows
                ? [a - 1, a + 1, a - width, a + width]
                : [a % width != 0 ? a - 1 : -1, a % width != width - 1 ? a + 1 : -1, a - width, a + width];
            foreach (int t in around)
            {
                if (wrapRows) Add(Math.Clamp(t, 0, p - 1));
                else if (t >= 0 && t < p) Add(t);
            }
        }
        var rest = deep.Select((v, t) => chosen.Contains(t) ? double.NegativeInfinity : v).ToArray();
        chosen.AddRange(ReferenceScores.Top(rest, keep - chosen.Count));
        return chosen.Order().ToArray();
    }

    /// <summary>HiRED (methods.md 3.5) over [parts][P] scores; returns each partition's kept patches, ascending.</summary>
    public static int[][] HiRed(double[][] initial, double[][] final, double rate, double alpha, int rows, int cols, bool bands)
    {
        int parts = initial.Length, p = initial[0].Length, side = (int)Math.Round(Math.Sqrt(p));
        int total = (int)(parts * p * rate);
        int full = Math.Min((int)(total * alpha), p);
        int sub = Math.Min(total - full, (parts - 1) * p);
        var budget = new int[parts];
        budget[0] = full;
        if (parts > 1)
        {
            var count = new int[parts - 1];
            foreach (int t in ReferenceScores.Top(initial[0], Math.Min((int)(p * (1 - alpha)), p)))
            {
                int crop = bands ? t / (p / (rows * cols)) : (t / side * rows / side) * cols + (t % side) * cols / side;
                count[crop]++;
            }
            int sum = count.Sum();
            for (int c = 1; c < parts; c++) budget[c] = sum == 0 ? 0 : Math.Min((int)((double)count[c - 1] / sum * sub), p);
        }
        return Enumerable.Range(0, parts).Select(i => TopAscending(final[i], budget[i])).ToArray();
    }

    /// <summary>Weighted PageRank per head then RMS over heads: probs [H, N, N] of one batch row.</summary>
    public static double[] PageRankRms(float[] probs, int b, int heads, int n, int iterations)
    {
        var rms = new double[n];
        for (int h = 0; h < heads; h++)
        {
            var s = Enumerable.Repeat(1.0 / n, n).ToArray();
            for (int it = 0; it < iterations; it++)
            {
                var next = new double[n];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) next[j] += s[i] * probs[((b * heads + h) * n + i) * n + j];
                s = next;
            }
            for (int j = 0; j < n; j++) rms[j] += s[j] * s[j];
        }
        return rms.Select(v => Math.Sqrt(v / heads)).ToArray();
    }

    /// <summary>Zero-TPrune selection for one row: sequential (halves) or alternating partition; kept tokens ascending.</summary>
    public static int[] ZeroTPrune(double[] importance, float[] keys, int b, int n, int d, int rI, int rS, bool cls, bool alternate)
    {
        var score = (double[])importance.Clone();
        if (cls) score[0] = double.PositiveInfinity;
        var rest = ReferenceScores.Order(score)[..(n - rI)];
        int half = rest.Length - rest.Length / 2;
        var targets = alternate ? rest.Where((_, i) => i % 2 == 0).ToArray() : rest[..half];
        var sources = alternate ? rest.Where((_, i) => i % 2 == 1).ToArray() : rest[half..];
        var best = sources.Select(s => targets.Max(t => ReferenceScores.Cosine(
            keys.AsSpan((b * n + s) * d, d), keys.AsSpan((b * n + t) * d, d)))).ToArray();
        var dropped = ReferenceScores.Top(best, rS).Select(i => sources[i]).ToHashSet();
        return rest.Where(t => !dropped.Contains(t)).Order().ToArray();
    }

    /// <summary>Greedy k-center under 1 - cos from <paramref name="seed"/>; returns the chosen set ascending.</summary>
    public static int[] FarthestPoint(float[] x, int b, int p, int c, int keep, int seed)
    {
        if (keep == 0) return [];
        var chosen = new List<int> { seed };
        var dmin = new double[p];
        for (int v = 0; v < p; v++) dmin[v] = 1 - ReferenceScores.Cosine(x.AsSpan((b * p + v) * c, c), x.AsSpan((b * p + seed) * c, c));
        while (chosen.Count < keep)
        {
            var masked = dmin.Select((v, i) => chosen.Contains(i) ? double.NegativeInfinity : v).ToArray();
            int next = ReferenceScores.Top(masked, 1)[0];
            chosen.Add(next);
            for (int v = 0; v < p; v++)
                dmin[v] = Math.Min(dmin[v], 1 - ReferenceScores.Cosine(x.AsSpan((b * p + v) * c, c), x.AsSpan((b * p + next) * c, c)));
        }
        return chosen.Order().ToArray();
    }

    /// <summary>Greedy weighted max coverage over items [U, V] (row-major, one batch row); returns the chosen set ascending.</summary>
    public static int[] Coverage(double[,] s, double[] w, int keep)
    {
        int u = s.GetLength(0), v = s.GetLength(1);
        var cov = new double[u];
        var chosen = new List<int>();
        for (int step = 0; step < keep; step++)
        {
            var gain = new double[v];
            for (int j = 0; j < v; j++)
            {
                if (chosen.Contains(j)) { gain[j] = double.NegativeInfinity; continue; }
                for (int i = 0; i < u; i++) gain[j] += w[i] * Math.Max(0, s[i, j] - cov[i]);
            }
            int best = ReferenceScores.Top(gain, 1)[0];
            chosen.Add(best);
            for (int i = 0; i < u; i++) cov[i] = Math.Max(cov[i], s[i, best]);
        }
        return chosen.Order().ToArray();
    }

    /// <summary>AIM's pruning step for one row: text +1, inactive -1, keep (visual) * retain + text by score.</summary>
    public static bool[] AimPrune(double[] importance, bool[] text, bool[] active, double retain)
    {
        int n = importance.Length;
        var s = importance.Select((v, t) => text[t] ? 1.0 : active[t] ? v : -1.0).ToArray();
        int nText = text.Count(x => x);
        int keep = (int)((n - nText) * retain) + nText;
        var result = new bool[n];
        foreach (int t in ReferenceScores.Top(s, keep)) result[t] = true;
        return result;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop paged attention in double, written from PagedAttentionArgs' doc comment: each (sequence, kv head)'s
// tokens gathered densely through its block table, the attended list of every query row (causal bottom-right,
// then the selection), RoPE by index within that list, the compensation key, a max-subtracted softmax and the
// exports by token index. No paging tricks, no reuse between rows or heads.
namespace HpcCore.Testing.Reference;

/// <summary>Reference paged attention (slow twin of the kernels behind PagedAttention.Forward).</summary>
public static class ReferencePagedAttention
{
    /// <summary>Inputs as host arrays; pages hold the values the kernel reads (already widened from F16/BF16).</summary>
    public sealed class Inputs
    {
        /// <summary>Batch B.</summary>
        public int Batch { get; init; }
        /// <summary>Query rows Tq.</summary>
        public int QueryLength { get; init; }
        /// <summary>Query heads H.</summary>
        public int Heads { get; init; }
        /// <summary>Kv heads Hkv.</summary>
        public int KvHeads { get; init; }
        /// <summary>Head dim D.</summary>
        public int HeadDim { get; init; }
        /// <summary>Tokens per page P.</summary>
        public int PageTokens { get; init; }
        /// <summary>Block table width.</summary>
        public int MaxBlocks { get; init; }
        /// <summary>Logit scale.</summary>
        public double Scale { get; init; }
        /// <summary>q [B, Tq, H, D].</summary>
        public required float[] Q { get; init; }
        /// <summary>Key pages [NPages, P, D].</summary>
        public required float[] KeyPages { get; init; }
        /// <summary>Value pages [NPages, P, D].</summary>
        public required float[] ValuePages { get; init; }
        /// <summary>[B, Hkv, MaxBlocks].</summary>
        public required int[] BlockTables { get; init; }
        /// <summary>[B, Hkv].</summary>
        public required int[] Lengths { get; init; }
        /// <summary>[B, Hkv, MaxSel] or null.</summary>
        public int[]? SelectedKeys { get; init; }
        /// <summary>[B, Hkv] or null.</summary>
        public int[]? SelectedCounts { get; init; }
        /// <summary>MaxSel.</summary>
        public int MaxSelected { get; init; }
        /// <summary>[B, Hkv, D] or null.</summary>
        public float[]? CompensationKeys { get; init; }
        /// <summary>[B, Hkv, D] or null.</summary>
        public float[]? CompensationValues { get; init; }
        /// <summary>[B, Hkv] or null (-inf: none for that head).</summary>
        public float[]? CompensationBias { get; init; }
        /// <summary>RoPE at read by index within the attended list.</summary>
        public bool RopeKeys { get; init; }
        /// <summary>RoPE base.</summary>
        public double RopeTheta { get; init; } = 10000;
        /// <summary>Pairs (2i, 2i+1) when true, else (i, i + R/2).</summary>
        public bool Interleaved { get; init; } = true;
        /// <summary>Rotary dims R (even, &lt;= D).</summary>
        public int RotaryDim { get; init; }
        /// <summary>First row counted in window totals.</summary>
        public int WindowFromRow { get; init; }
        /// <summary>Width of the exports' last axis.</summary>
        public int ExportKeys { get; init; }
    }

    /// <summary>Outputs: Dest [B, Tq, H, D], KeyTotals and WindowTotals [B, H, E], Probabilities [B, Tq, H, E].</summary>
    public sealed record Outputs(double[] Dest, double[] KeyTotals, double[] WindowTotals, double[] Probabilities);

    /// <summary>Runs the reference.</summary>
    public static Outputs Forward(Inputs x)
    {
        int b = x.Batch, tq = x.QueryLength, h = x.Heads, hkv = x.KvHeads, d = x.HeadDim, p = x.PageTokens, e = x.ExportKeys;
        int group = h / hkv;
        var dest = new double[(long)b * tq * h * d];
        var totals = new double[(long)b * h * e];
        var window = new double[(long)b * h * e];
        var probs = new double[(long)b * tq * h * e];
        for (int bi = 0; bi < b; bi++)
        for (int g = 0; g < hkv; g++)
        {
            int head = bi * hkv + g, length = x.Lengths[head];
            // Dense gather of the head's tokens through its block table.
            var keys = new double[length][];
            var values = new double[length][];
            for (int i = 0; i < length; i++)
            {
                long row = ((long)x.BlockTables[(long)head * x.MaxBlocks + i / p] * p + i % p) * d;
                keys[i] = new double[d];
                values[i] = new double[d];
                for (int c = 0; c < d; c++)
                {
                    keys[i][c] = x.KeyPages[row + c];
                    values[i][c] = x.ValuePages[row + c];
                }
            }
            bool comp = x.CompensationBias is not null && !double.IsNegativeInfinity(x.CompensationBias[head]);
            for (int t = 0; t < tq; t++)
            {
                int limit = length - tq + t + 1;
                var attended = new List<int>();
                if (x.SelectedKeys is null)
                    for (int i = 0; i < Math.Min(limit, length); i++) attended.Add(i);
                else
                    for (int j = 0; j < x.SelectedCounts![head]; j++)
                    {
                        int token = x.SelectedKeys[(long)head * x.MaxSelected + j];
                        if (token < limit) attended.Add(token);
                    }
                int n = attended.Count;
                for (int hi = 0; hi < group; hi++)
                {
                    int hq = g * group + hi;
                    long qo = (((long)bi * tq + t) * h + hq) * d;
                    var q = new double[d];
                    for (int c = 0; c < d; c++) q[c] = x.Q[qo + c];
                    if (x.RopeKeys) q = Rotate(q, n - 1, x);
                    var logits = new double[n + (comp ? 1 : 0)];
                    for (int j = 0; j < n; j++)
                    {
                        var k = keys[attended[j]];
                        if (x.RopeKeys) k = Rotate(k, j, x);
                        logits[j] = x.Scale * Dot(q, k);
                    }
                    if (comp)
                    {
                        var kc = new double[d];
                        for (int c = 0; c < d; c++) kc[c] = x.CompensationKeys![(long)head * d + c];
                        logits[n] = x.Scale * Dot(q, kc) + x.CompensationBias![head];
                    }
                    var pr = Softmax(logits);
                    var o = new double[d];
                    for (int j = 0; j < n; j++)
                        for (int c = 0; c < d; c++) o[c] += pr[j] * values[attended[j]][c];
                    if (comp)
                        for (int c = 0; c < d; c++) o[c] += pr[n] * x.CompensationValues![(long)head * d + c];
                    for (int c = 0; c < d; c++) dest[qo + c] = o[c];
                    for (int j = 0; j < n; j++)
                    {
                        int token = attended[j];
                        totals[((long)bi * h + hq) * e + token] += pr[j];
                        if (t >= x.WindowFromRow) window[((long)bi * h + hq) * e + token] += pr[j];
                        probs[(((long)bi * tq + t) * h + hq) * e + token] = pr[j];
                    }
                }
            }
        }
        return new Outputs(dest, totals, window, probs);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    // Max-subtracted softmax; an empty row stays empty.
    private static double[] Softmax(double[] x)
    {
        var r = new double[x.Length];
        if (x.Length == 0) return r;
        double max = x.Max(), sum = 0;
        for (int i = 0; i < x.Length; i++) sum += r[i] = Math.Exp(x[i] - max);
        for (int i = 0; i < x.Length; i++) r[i] /= sum;
        return r;
    }

    // RoPE of one head vector at pos, pair i of the first R dims rotated by pos * theta^(-2i/R).
    private static double[] Rotate(double[] x, int pos, Inputs s)
    {
        var r = (double[])x.Clone();
        int pairs = s.RotaryDim / 2;
        for (int i = 0; i < pairs; i++)
        {
            double angle = pos * Math.Pow(s.RopeTheta, -2.0 * i / s.RotaryDim);
            int i0 = s.Interleaved ? 2 * i : i, i1 = s.Interleaved ? 2 * i + 1 : i + pairs;
            r[i0] = x[i0] * Math.Cos(angle) - x[i1] * Math.Sin(angle);
            r[i1] = x[i0] * Math.Sin(angle) + x[i1] * Math.Cos(angle);
        }
        return r;
    }
}

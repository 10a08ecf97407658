// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Plain-loop attention in double precision implementing every option of Attention.Forward, written from the
// definitions (flash-attn's conventions for causal alignment and windows), not from the kernel.
namespace HpcCore.Testing.Reference;

/// <summary>Options of <see cref="ReferenceAttention.Forward"/>; arrays are contiguous row-major.</summary>
public sealed record ReferenceAttentionOptions
{
    /// <summary>Logit scale (the caller resolves the 1/sqrt(D) default).</summary>
    public double Scale { get; init; }

    /// <summary>Causal mask, bottom-right aligned.</summary>
    public bool Causal { get; init; }

    /// <summary>Left window extent (null: unbounded).</summary>
    public int? WindowLeft { get; init; }

    /// <summary>Right window extent (null: unbounded).</summary>
    public int? WindowRight { get; init; }

    /// <summary>Soft cap (0: off).</summary>
    public double SoftCap { get; init; }

    /// <summary>[B, Tk] keep flags.</summary>
    public bool[]? Keep { get; init; }

    /// <summary>[B] key lengths.</summary>
    public int[]? Lengths { get; init; }

    /// <summary>[B, Tk] or [B, Hkv, Tk] per-key bias (see <see cref="KeyBiasPerKvHead"/>).</summary>
    public float[]? KeyBias { get; init; }

    /// <summary>True when <see cref="KeyBias"/> is [B, Hkv, Tk].</summary>
    public bool KeyBiasPerKvHead { get; init; }

    /// <summary>[H, Tq, Tk] additive bias.</summary>
    public float[]? PositionBias { get; init; }

    /// <summary>[B, Hkv, nSel] selected key positions.</summary>
    public int[]? Selected { get; init; }

    /// <summary>nSel when <see cref="Selected"/> is given.</summary>
    public int SelectedCount { get; init; }

    /// <summary>Query positions whose probability rows are returned.</summary>
    public int[]? Rows { get; init; }

    /// <summary>[Bm, Hm, ceil(Tq / BlockSize), ceil(Tk / BlockSize)] block keep flags (Bm in {1, B}, Hm in {1, H}).</summary>
    public bool[]? BlockMask { get; init; }

    /// <summary>Batch extent of <see cref="BlockMask"/> (1 broadcasts).</summary>
    public int BlockMaskBatch { get; init; } = 1;

    /// <summary>Head extent of <see cref="BlockMask"/> (1 broadcasts).</summary>
    public int BlockMaskHeads { get; init; } = 1;

    /// <summary>Block edge of <see cref="BlockMask"/>.</summary>
    public int BlockSize { get; init; } = 64;
}

/// <summary>Reference attention over q [B, Tq, H, D], k and v [B, Tk, Hkv, D].</summary>
public static class ReferenceAttention
{
    /// <summary>
    /// Output [B, Tq, H, D], key totals [B, H, Nk] and probability rows [B, H, nRows, Nk] (Nk = Tk or nSel).
    /// Rows with no visible key give zeros.
    /// </summary>
    public static (double[] Output, double[] Totals, double[] RowProbabilities) Forward(
        float[] q, float[] k, float[] v, int b, int tq, int tk, int h, int hkv, int d, ReferenceAttentionOptions o)
    {
        int n = o.Selected is null ? tk : o.SelectedCount, g = h / hkv;
        var rows = o.Rows ?? [];
        var output = new double[(long)b * tq * h * d];
        var totals = new double[(long)b * h * n];
        var probs = new double[(long)b * h * rows.Length * n];
        var s = new double[n];
        for (int bi = 0; bi < b; bi++)
        for (int hi = 0; hi < h; hi++)
        for (int t = 0; t < tq; t++)
        {
            int kv = hi / g, len = o.Lengths?[bi] ?? tk, off = len - tq;
            int? right = o.Causal ? Math.Min(o.WindowRight ?? 0, 0) : o.WindowRight;
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++)
            {
                int pos = o.Selected is null ? j : o.Selected[((long)bi * hkv + kv) * n + j];
                bool keep = pos < len && (o.Keep?[bi * tk + pos] ?? true) && BlockKept(o, bi, hi, t, pos, tq, tk)
                    && !(o.WindowLeft is { } l && pos < t + off - l) && !(right is { } r && pos > t + off + r);
                if (!keep)
                {
                    s[j] = double.NegativeInfinity;
                    continue;
                }
                double dot = 0;
                for (int e = 0; e < d; e++)
                    dot += (double)q[(((long)bi * tq + t) * h + hi) * d + e] * k[(((long)bi * tk + pos) * hkv + kv) * d + e];
                double x = o.Scale * dot;
                if (o.SoftCap > 0) x = o.SoftCap * Math.Tanh(x / o.SoftCap);
                if (o.KeyBias is { } kb) x += kb[o.KeyBiasPerKvHead ? ((long)bi * hkv + kv) * tk + pos : (long)bi * tk + pos];
                if (o.PositionBias is { } pb) x += pb[((long)hi * tq + t) * tk + pos];
                s[j] = x;
                max = Math.Max(max, x);
            }
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                s[j] = double.IsNegativeInfinity(max) ? 0 : Math.Exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < n; j++)
            {
                double p = sum > 0 ? s[j] / sum : 0;
                totals[((long)bi * h + hi) * n + j] += p;
                for (int ri = 0; ri < rows.Length; ri++)
                    if (rows[ri] == t) probs[(((long)bi * h + hi) * rows.Length + ri) * n + j] = p;
                if (p == 0) continue;
                int pos = o.Selected is null ? j : o.Selected[((long)bi * hkv + kv) * n + j];
                for (int e = 0; e < d; e++)
                    output[(((long)bi * tq + t) * h + hi) * d + e] += p * v[(((long)bi * tk + pos) * hkv + kv) * d + e];
            }
        }
        return (output, totals, probs);
    }

    /// <summary>Keys averaged over the kv heads: [B, Tk, D] from k [B, Tk, Hkv, D].</summary>
    public static double[] KeyMeans(float[] k, int b, int tk, int hkv, int d)
    {
        var means = new double[(long)b * tk * d];
        for (long bt = 0; bt < (long)b * tk; bt++)
        for (int e = 0; e < d; e++)
        {
            double sum = 0;
            for (int kv = 0; kv < hkv; kv++) sum += k[(bt * hkv + kv) * d + e];
            means[bt * d + e] = sum / hkv;
        }
        return means;
    }

    private static bool BlockKept(ReferenceAttentionOptions o, int bi, int hi, int t, int pos, int tq, int tk)
    {
        if (o.BlockMask is not { } m) return true;
        int bs = o.BlockSize, qb = (tq + bs - 1) / bs, kb = (tk + bs - 1) / bs;
        int mb = o.BlockMaskBatch == 1 ? 0 : bi, mh = o.BlockMaskHeads == 1 ? 0 : hi;
        return m[(((long)mb * o.BlockMaskHeads + mh) * qb + t / bs) * kb + pos / bs];
    }
}

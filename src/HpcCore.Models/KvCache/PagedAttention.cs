// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;

/// <summary>
/// Causal attention of a chunk of queries over a <see cref="PagedKvCache"/> layer whose heads may hold different
/// tokens (ragged, paged). Keys are read page by page in place; the chunk's own keys must already be appended, so
/// query row t sees a head's tokens up to index Count - rows + t. Exports the statistics eviction policies use
/// (see <see cref="PagedAttentionOptions"/>).
/// </summary>
public static class PagedAttention
{
    /// <summary>
    /// Attention for q [rows, H, D] into <paramref name="output"/> [rows, H, D]; <paramref name="firstPosition"/> is the
    /// position of row 0; <paramref name="scratch"/> needs at least max head tokens + 1 floats.
    /// </summary>
    public static void Forward(PagedKvCache cache, int layer, ReadOnlySpan<float> q, Span<float> output, int rows, int heads,
        int firstPosition, Span<float> scratch, in PagedAttentionOptions options = default)
    {
        int d = cache.HeadDim, group = heads / cache.KvHeads;
        float scale = 1f / MathF.Sqrt(d);
        for (int t = 0; t < rows; t++)
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / group;
            var head = cache.Head(layer, kvh);
            int visible = head.Count - rows + t + 1;
            var qh = q.Slice((t * heads + h) * d, d);
            var oh = output.Slice((t * heads + h) * d, d);
            var sel = options.Selection is null ? default : options.Selection.Indices(kvh);
            int n = options.Selection is null ? visible : CountBelow(sel, visible);
            var s = scratch[..(n + 1)];
            Scores(head, qh, sel, options.Selection is not null, n, scale, s);
            bool comp = options.UseCompensation && head.CompensationCount > 0;
            if (comp)
                s[n] = TensorPrimitives.Dot(qh, head.CompensationKeySum) * scale / head.CompensationCount + MathF.Log(head.CompensationCount);
            var probs = comp ? s : s[..n];
            float max = TensorPrimitives.Max(probs);
            TensorPrimitives.Subtract(probs, max, probs);
            TensorPrimitives.Exp(probs, probs);
            TensorPrimitives.Divide(probs, TensorPrimitives.Sum(probs), probs);
            oh.Clear();
            if (options.Selection is null) WeightedValues(head, s, n, oh);
            else
                for (int j = 0; j < n; j++) Axpy(head.Value(sel[j]), s[j], oh);
            if (comp)
                TensorPrimitives.MultiplyAdd(head.CompensationValueSum, s[n] / head.CompensationCount, oh, oh);
            Export(head, s, sel, options, n, firstPosition + t, t, h, heads);
        }
    }

    private static void Scores(KvHeadCache head, ReadOnlySpan<float> qh, ReadOnlySpan<int> sel, bool selected, int n, float scale, Span<float> s)
    {
        int d = head.HeadDim, p = head.PageTokens;
        if (selected)
        {
            for (int j = 0; j < n; j++) s[j] = Dot(qh, head.Key(sel[j])) * scale;
            return;
        }
        for (int page = 0, j = 0; j < n; page++)
        {
            var keys = head.Page(page).Keys;
            int m = Math.Min(p, n - j);
            for (int i = 0; i < m; i++, j++) s[j] = Dot(qh, keys.AsSpan(i * d, d)) * scale;
        }
    }

    private static void WeightedValues(KvHeadCache head, ReadOnlySpan<float> p, int n, Span<float> o)
    {
        int d = head.HeadDim, pt = head.PageTokens;
        for (int page = 0, j = 0; j < n; page++)
        {
            var values = head.Page(page).Values;
            int m = Math.Min(pt, n - j);
            for (int i = 0; i < m; i++, j++) Axpy(values.AsSpan(i * d, d), p[j], o);
        }
    }

    // Heads of 8-16 dims (stories260K, small decoders) lose more to the library call than they compute: plain loops there.
    private const int SmallHead = 16;

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length > SmallHead) return TensorPrimitives.Dot(a, b);
        float acc = 0;
        for (int i = 0; i < a.Length; i++) acc += a[i] * b[i];
        return acc;
    }

    private static void Axpy(ReadOnlySpan<float> x, float alpha, Span<float> y)
    {
        if (x.Length > SmallHead)
        {
            TensorPrimitives.MultiplyAdd(x, alpha, y, y);
            return;
        }
        for (int i = 0; i < x.Length; i++) y[i] += alpha * x[i];
    }

    private static void Export(KvHeadCache head, ReadOnlySpan<float> s, ReadOnlySpan<int> sel, in PagedAttentionOptions o, int n,
        int position, int row, int h, int heads)
    {
        bool selected = o.Selection is not null;
        if (o.AccumulateScores)
            for (int j = 0; j < n; j++)
            {
                int token = selected ? sel[j] : j;
                head.Score(token) += s[j];
                head.Seen(token)++;
            }
        if (o.WindowFromPosition is int from && position >= from)
            for (int j = 0; j < n; j++) head.WindowScore(selected ? sel[j] : j) += s[j];
        if (o.Capture is not null)
        {
            var dst = o.Capture.AsSpan((row * heads + h) * o.CaptureStride, o.CaptureStride);
            dst.Clear();
            for (int j = 0; j < n; j++) dst[selected ? sel[j] : j] = s[j];
        }
    }

    private static int CountBelow(ReadOnlySpan<int> ascending, int limit)
    {
        int n = 0;
        while (n < ascending.Length && ascending[n] < limit) n++;
        return n;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;
using HpcCore.Cpu;
using HpcCore.Ops;

/// <summary>
/// Causal attention of a chunk of queries over a <see cref="PagedKvCache"/> layer whose heads may hold different
/// tokens (ragged, paged). Keys are read page by page in place; the chunk's own keys must already be appended, so
/// query row t sees a head's tokens up to index Count - rows + t. Exports the statistics eviction policies use
/// (see <see cref="PagedAttentionOptions"/>).
/// </summary>
/// <remarks>
/// Work is split by kv head: one kv head's query heads (its GQA group) are scored together, so each key is read once
/// per group, and every statistic a policy reads (accumulated or window scores) belongs to one kv head, so kv heads
/// run in parallel without sharing a write and the result does not depend on the thread count.
/// </remarks>
public static class PagedAttention
{
    /// <summary>Floats of scratch that <see cref="Forward(CpuWorkerPool, PagedKvCache, int, ReadOnlySpan{float}, Span{float}, int, int, int, float[], in PagedAttentionOptions)"/> needs for heads of up to <paramref name="maxTokens"/> tokens.</summary>
    public static int ScratchLength(int heads, int maxTokens) => checked(heads * (maxTokens + 1));

    /// <summary>
    /// Attention for q [rows, H, D] into <paramref name="output"/> [rows, H, D] on the calling thread;
    /// <paramref name="firstPosition"/> is the position of row 0; <paramref name="scratch"/> needs at least
    /// (H / Hkv) x (max head tokens + 1) floats.
    /// </summary>
    public static void Forward(PagedKvCache cache, int layer, ReadOnlySpan<float> q, Span<float> output, int rows, int heads,
        int firstPosition, Span<float> scratch, in PagedAttentionOptions options = default)
    {
        int stride = Stride(cache, layer);
        CheckArguments(cache, q, output, rows, heads, scratch.Length, heads / cache.KvHeads * stride);
        for (int kvh = 0; kvh < cache.KvHeads; kvh++)
            KvHead(cache, layer, kvh, q, output, rows, heads, firstPosition, scratch, stride, options);
    }

    /// <summary>
    /// As the single-thread overload, with the kv heads spread over <paramref name="pool"/>'s threads (small calls stay
    /// on the calling thread); <paramref name="scratch"/> needs <see cref="ScratchLength"/>(H, max head tokens) floats.
    /// Same result as the single-thread overload, bit for bit; allocates nothing.
    /// </summary>
    public static unsafe void Forward(CpuWorkerPool pool, PagedKvCache cache, int layer, ReadOnlySpan<float> q, Span<float> output, int rows,
        int heads, int firstPosition, float[] scratch, in PagedAttentionOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(scratch);
        int stride = Stride(cache, layer);
        CheckArguments(cache, q, output, rows, heads, scratch.Length, heads * stride);
        // Below ~32k multiply-adds a wake-up of the other threads costs more than it saves.
        if (pool.Threads == 1 || cache.KvHeads == 1 || (long)rows * heads * stride * cache.HeadDim < 32_768)
        {
            Forward(cache, layer, q, output, rows, heads, firstPosition, scratch, options);
            return;
        }
        fixed (float* qp = q, op = output)
        {
            pool.For(cache.KvHeads, new KvHeadBody
            {
                Cache = cache, Layer = layer, Q = qp, QLength = q.Length, Output = op, OutputLength = output.Length, Rows = rows,
                Heads = heads, FirstPosition = firstPosition, Scratch = scratch, Stride = stride, Options = options,
            });
        }
    }

    private unsafe struct KvHeadBody : IParallelBody
    {
        public PagedKvCache Cache;
        public float* Q, Output;
        public int Layer, QLength, OutputLength, Rows, Heads, FirstPosition, Stride;
        public float[] Scratch;
        public PagedAttentionOptions Options;

        public readonly void Invoke(int kvh)
        {
            int slice = Heads / Cache.KvHeads * Stride;
            KvHead(Cache, Layer, kvh, new ReadOnlySpan<float>(Q, QLength), new Span<float>(Output, OutputLength), Rows, Heads, FirstPosition,
                Scratch.AsSpan(kvh * slice, slice), Stride, Options);
        }
    }

    // Scores of one query head sit at s[g * stride ..]: room for every token of the head plus the compensation token.
    private static int Stride(PagedKvCache cache, int layer)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if ((uint)layer >= (uint)cache.Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), $"PagedAttention.Forward: layer {layer} is outside 0..{cache.Layers - 1}.");
        int most = 0;
        for (int h = 0; h < cache.KvHeads; h++) most = Math.Max(most, cache.Head(layer, h).Count);
        return most + 1;
    }

    private static void CheckArguments(PagedKvCache cache, ReadOnlySpan<float> q, Span<float> output, int rows, int heads, int scratch, int needed)
    {
        if (heads <= 0 || heads % cache.KvHeads != 0)
            throw new ArgumentException($"PagedAttention.Forward: heads = {heads} is not a positive multiple of the cache's {cache.KvHeads} kv heads.", nameof(heads));
        long size = (long)rows * heads * cache.HeadDim;
        if (rows <= 0 || q.Length < size || output.Length < size)
            throw new ArgumentException($"PagedAttention.Forward: q ({q.Length} floats) and output ({output.Length}) must hold rows x heads x D = " +
                                        $"{rows} x {heads} x {cache.HeadDim}.", nameof(q));
        if (scratch < needed)
            throw new ArgumentException($"PagedAttention.Forward: scratch has {scratch} floats, needs {needed}.", nameof(scratch));
    }

    private static void KvHead(PagedKvCache cache, int layer, int kvh, ReadOnlySpan<float> q, Span<float> output, int rows, int heads,
        int firstPosition, Span<float> scratch, int stride, in PagedAttentionOptions options)
    {
        int d = cache.HeadDim, group = heads / cache.KvHeads, h0 = kvh * group;
        float scale = 1f / MathF.Sqrt(d);
        var head = cache.Head(layer, kvh);
        bool selected = options.Selection is not null;
        var sel = selected ? options.Selection!.Indices(kvh) : default;
        bool comp = options.UseCompensation && head.CompensationCount > 0;
        for (int t = 0; t < rows; t++)
        {
            int visible = head.Count - rows + t + 1;
            int n = selected ? CountBelow(sel, visible) : visible;
            var qg = q.Slice((t * heads + h0) * d, group * d);
            var og = output.Slice((t * heads + h0) * d, group * d);
            PagedKernels.Scores(head, qg, group, sel, selected, n, scale, scratch, stride);
            for (int g = 0; g < group; g++)
            {
                var s = scratch.Slice(g * stride, n + 1);
                if (comp)
                    s[n] = TensorPrimitives.Dot(qg.Slice(g * d, d), head.CompensationKeySum) * scale / head.CompensationCount + MathF.Log(head.CompensationCount);
                var probs = comp ? s : s[..n];
                Softmax.Row(probs, probs);
            }
            PagedKernels.WeightedValues(head, scratch, stride, group, sel, selected, n, og);
            for (int g = 0; g < group; g++)
            {
                var s = scratch.Slice(g * stride, n + 1);
                if (comp)
                    TensorPrimitives.MultiplyAdd(head.CompensationValueSum, s[n] / head.CompensationCount, og.Slice(g * d, d), og.Slice(g * d, d));
                Export(head, s, sel, options, n, firstPosition + t, t, h0 + g, heads);
            }
        }
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

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>How SnapKV smooths its votes over neighbouring tokens (the paper's clustering step).</summary>
public enum SnapKvPooling
{
    /// <summary>Average pool, zero-padded, divided by the kernel width (the authors' default: avg_pool1d, count_include_pad).</summary>
    Average,
    /// <summary>Max pool (PyramidKV's and AdaKV's choice).</summary>
    Max,
}

/// <summary>
/// SnapKV (Li et al. 2024): after prefill, the last <see cref="Window"/> prompt queries vote (their attention
/// probabilities summed per token: the op's WindowTotals export, summed over the kv head's query heads); votes over
/// the prefix are pooled over <see cref="Kernel"/> neighbours (<see cref="Pooling"/>) and each head keeps the top
/// prefix tokens plus the window itself, <see cref="Budget"/> in all. Decode then appends without eviction.
/// </summary>
public sealed class SnapKvPolicy(int budget, int window = 32, int kernel = 5, SnapKvPooling pooling = SnapKvPooling.Average) : KvPolicy
{
    private KvTokenStatistics _votes = null!;
    private int[] _counts = [];
    private float[] _pooled = [];

    /// <summary>Tokens kept per head after prefill.</summary>
    public int Budget { get; } = budget > 0 ? budget : throw new ArgumentOutOfRangeException(nameof(budget), $"SnapKV: budget {budget} must be positive.");
    /// <summary>Observation window (last prompt queries).</summary>
    public int Window { get; } = window >= 1 ? window : throw new ArgumentOutOfRangeException(nameof(window), $"SnapKV: window {window} must be at least 1.");
    /// <summary>Pool width (odd).</summary>
    public int Kernel { get; } = kernel >= 1 && kernel % 2 == 1 ? kernel : throw new ArgumentOutOfRangeException(nameof(kernel), $"SnapKV: kernel {kernel} must be odd and at least 1.");
    /// <summary>Average (default) or max pooling.</summary>
    public SnapKvPooling Pooling { get; } = Enum.IsDefined(pooling) ? pooling
        : throw new ArgumentOutOfRangeException(nameof(pooling), $"SnapKV: pooling {(int)pooling} is not a SnapKvPooling value.");

    /// <inheritdoc />
    public override string Name => "snapkv";

    /// <summary>
    /// The decision for one head: <paramref name="votes"/> [count] from the window queries; returns how many indices
    /// were written to <paramref name="keep"/>. <paramref name="pooled"/> is scratch of at least count floats.
    /// </summary>
    public static int Decide(ReadOnlySpan<float> votes, int budget, int window, int kernel, SnapKvPooling pooling, Span<float> pooled, Span<int> keep)
    {
        int count = votes.Length;
        if (count <= budget)
        {
            for (int i = 0; i < count; i++) keep[i] = i;
            return count;
        }
        int w = Math.Min(window, budget), prefix = count - w, half = kernel / 2;
        for (int i = 0; i < prefix; i++)
        {
            int lo = Math.Max(0, i - half), hi = Math.Min(prefix - 1, i + half);
            if (pooling == SnapKvPooling.Max)
            {
                float m = float.NegativeInfinity;
                for (int j = lo; j <= hi; j++) m = Math.Max(m, votes[j]);
                pooled[i] = m;
            }
            else
            {
                // Zero padding counts in the mean, as avg_pool1d(padding = kernel / 2) does by default.
                double sum = 0;
                for (int j = lo; j <= hi; j++) sum += votes[j];
                pooled[i] = (float)(sum / kernel);
            }
        }
        int n = KvTopK.Select(pooled[..prefix], 0, prefix, budget - w, keep);
        for (int i = prefix; i < count; i++) keep[n++] = i;
        return n;
    }

    /// <inheritdoc />
    public override void Begin(KvSequenceView cache, int heads)
    {
        _votes = new KvTokenStatistics(cache.Layers, cache.KvHeads, cache.MaxTokensPerHead);
        _counts = new int[cache.KvHeads];
        _pooled = new float[cache.MaxTokensPerHead];
    }

    /// <inheritdoc />
    public override KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection) =>
        step.IsPrefill ? new(WindowFromPosition: Math.Max(0, step.PromptLength - Window)) : default;

    /// <inheritdoc />
    public override void Observe(KvSequenceView cache, in KvStep step, in KvExports exports)
    {
        if (exports.WindowTotals.IsEmpty) return;
        for (int h = 0; h < cache.KvHeads; h++) _counts[h] = cache.Count(step.Layer, h);
        _votes.AddExport(step.Layer, exports.WindowTotals, exports.Width, step.Heads, _counts);
    }

    /// <inheritdoc />
    public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions)
    {
        for (int l = 0; l < cache.Layers; l++)
        for (int h = 0; h < cache.KvHeads; h++)
        {
            int count = cache.Count(l, h);
            if (count <= Budget) continue;
            decisions.Keep(l, h, Decide(_votes.Row(l, h)[..count], Budget, Window, Kernel, Pooling, _pooled, decisions.KeepBuffer(l, h)));
        }
        _votes.Clear();
    }
}

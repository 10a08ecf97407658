// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// A KV selection or eviction policy. Policies only decide: which tokens each head keeps (applied by
/// <see cref="KvHeadCache.Keep"/>, which frees pages) and which tokens each attention call reads or which statistics
/// it exports (applied by <see cref="PagedAttention"/>). The decoder calls the hooks in this order: <see cref="Begin"/>
/// once per sequence, then per layer and chunk <see cref="Options"/> then <see cref="AfterAttention"/>, then
/// <see cref="AfterPrefill"/> once the prompt is in, then <see cref="AfterDecodeStep"/> after every generated token.
/// Steady-state hooks must allocate nothing.
/// </summary>
public abstract class KvPolicy
{
    /// <summary>Short name used on the command line and in reports.</summary>
    public abstract string Name { get; }

    /// <summary>Starts a sequence: size buffers for <paramref name="heads"/> query heads over <paramref name="cache"/>.</summary>
    public virtual void Begin(PagedKvCache cache, int heads) { }

    /// <summary>
    /// Options of the attention call for <paramref name="layer"/>, queries q [rows, H, D] at positions
    /// <paramref name="firstPosition"/>.. of a sequence whose prompt has <paramref name="promptLength"/> tokens.
    /// </summary>
    public virtual PagedAttentionOptions Options(PagedKvCache cache, int layer, ReadOnlySpan<float> q, int rows, int firstPosition,
        int promptLength) => default;

    /// <summary>Called after the attention call of <paramref name="layer"/> (read captured probabilities here).</summary>
    public virtual void AfterAttention(PagedKvCache cache, int layer, int rows) { }

    /// <summary>Called once the whole prompt is cached (prefill-time compression: SnapKV, EMS, RazorAttention).</summary>
    public virtual void AfterPrefill(PagedKvCache cache, int promptLength) { }

    /// <summary>Called after each decoded token (decode-time eviction: StreamingLLM, H2O).</summary>
    public virtual void AfterDecodeStep(PagedKvCache cache) { }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

/// <summary>
/// A token-reduction method for <see cref="EncoderSession"/>: after a block's attention and its LayerNorm, and before
/// its MLP (the place ToMe and EViT reduce in), it maps every token of every text to a slot of a shorter text. The
/// session applies the map on the backend (one weighted scatter-add, <c>Scatter.Reduce</c>), keeps the lengths in the
/// attention kernel's key lengths, the sizes for proportional attention and for size-weighted pooling.
/// </summary>
public abstract class EncoderTokenReducer
{
    /// <summary>The method and its settings, e.g. <c>tome:r=8</c>.</summary>
    public abstract string Name { get; }

    /// <summary>ToMe's proportional attention: later blocks add log(size) to each key's logits (Bolya et al. 2023, eq. 1).</summary>
    public virtual bool ProportionalAttention => false;

    /// <summary>What block <paramref name="layer"/>'s attention must export for <see cref="Plan"/>.</summary>
    public abstract EncoderReductionExports Exports(int layer);

    /// <summary>
    /// Fills <paramref name="state"/>'s outputs for block <paramref name="layer"/>; returns false (outputs untouched)
    /// when this block keeps every token.
    /// </summary>
    public abstract bool Plan(int layer, EncoderReductionState state);

    /// <summary>
    /// Fills the map, weights and new sizes of text <paramref name="b"/> from its kept tokens: <paramref name="slot"/>[t]
    /// is token t's output slot (token t in 0..length-1); weights are size-weighted within a slot (ToMe's merge_wavg) or
    /// <paramref name="scale"/>-weighted when given (EViT's attention-weighted fusion).
    /// </summary>
    protected static void Emit(EncoderReductionState state, int b, ReadOnlySpan<int> slot, int slots, int newTokens, ReadOnlySpan<float> scale = default)
    {
        int t = state.Tokens, n = state.Lengths[b];
        var map = state.Map.AsSpan(b * t, t);
        var w = state.Weights.AsSpan(b * t, t);
        var sizes = state.Sizes.AsSpan(b * t, n);
        var newSizes = state.NewSizes.AsSpan(b * newTokens, newTokens);
        newSizes.Clear();
        var total = state.SlotTotals.AsSpan(0, slots);
        total.Clear();
        for (int i = 0; i < n; i++)
        {
            newSizes[slot[i]] += sizes[i];
            total[slot[i]] += scale.IsEmpty ? sizes[i] : scale[i];
        }
        for (int i = 0; i < n; i++)
        {
            map[i] = slot[i];
            // A slot whose scales are all zero (no attention at all) falls back to size weights.
            w[i] = scale.IsEmpty ? sizes[i] / total[slot[i]]
                : total[slot[i]] > 0 ? scale[i] / total[slot[i]] : sizes[i] / newSizes[slot[i]];
        }
        for (int i = n; i < t; i++)
        {
            map[i] = -1;
            w[i] = 0f;
        }
        state.NewLengths[b] = slots;
    }
}

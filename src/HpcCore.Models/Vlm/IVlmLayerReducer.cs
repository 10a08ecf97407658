// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

/// <summary>
/// A visual-token reduction inside the language model (FastV, ToDRE's stage 2, AIM's progressive pruning): after
/// chosen decoder layers it sees that layer's attention and names the tokens the later layers keep. Text tokens are
/// always kept; pruned tokens leave the hidden states and the KV cache of every later layer.
/// </summary>
public interface IVlmLayerReducer
{
    /// <summary>Short name for tables.</summary>
    string Name { get; }

    /// <summary>What layer <paramref name="layer"/> must export for <see cref="Keep"/> (None: it does not prune there).</summary>
    VlmLayerExports Exports(int layer);

    /// <summary>
    /// The sequence indices (ascending) of the tokens that stay after <see cref="VlmLayerStep.Layer"/>; return null to
    /// keep them all.
    /// </summary>
    int[]? Keep(in VlmLayerStep step);
}

/// <summary>Attention statistics an <see cref="IVlmLayerReducer"/> asks of a decoder layer.</summary>
[Flags]
public enum VlmLayerExports
{
    /// <summary>Nothing: the layer does not prune.</summary>
    None = 0,

    /// <summary>The text rows' attention probabilities F32 [H, Ttext, T] (the rows after the last visual token).</summary>
    TextRows = 1,

    /// <summary>The pre-softmax logits F32 [H, T, T] (causal entries -inf): AIM's PageRank graph.</summary>
    Logits = 2,
}

/// <summary>One pruning decision inside the decoder.</summary>
/// <param name="Layer">The decoder layer just run.</param>
/// <param name="IsVisual">Per current token: whether it is a visual token.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="TextRows">Per <see cref="VlmLayerExports.TextRows"/>: [H, Ttext, T] host floats, Ttext = <see cref="TextRowCount"/>.</param>
/// <param name="TextRowCount">Text rows exported.</param>
/// <param name="Logits">Per <see cref="VlmLayerExports.Logits"/>: [H, T, T] host floats.</param>
/// <param name="Backend">The backend to run core token-reduction methods on.</param>
public readonly record struct VlmLayerStep(int Layer, bool[] IsVisual, int Heads, float[]? TextRows, int TextRowCount, float[]? Logits,
    HpcCore.Devices.IBackend Backend);

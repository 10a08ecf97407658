// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm.Reducers;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// MMTok (methods.md 3.9) with real text: greedy maximum coverage (<see cref="MmTok.Select"/>) of the question's
/// tokens and of all visual tokens, similarities = cosine in the LM's input space (the question's embeddings against
/// the projected visual tokens, and the projected tokens against each other), vision term weight lambda.
/// </summary>
public sealed class MmTokSelector(float lambda) : IVlmVisualReducer
{
    /// <inheritdoc />
    public string Name => $"mmtok:lambda={lambda}";

    /// <inheritdoc />
    public VlmKept Reduce(in VlmVisualInput input, int budget)
    {
        int n = input.Vision.Tokens, c = input.Projected.Length / n, tq = input.Text.Length / c;
        using var vis = Tensor.From<float>(input.Projected, new Shape(1, n, c), input.Backend);
        using var text = Tensor.From<float>(input.Text, new Shape(1, tq, c), input.Backend);
        using var tv = Similarity.Cosine(text, vis);
        using var vv = Similarity.Cosine(vis, vis);
        return VlmKept.Select(VisualScores.Take(MmTok.Select(tv, vv, Math.Min(budget, n), lambda)));
    }
}

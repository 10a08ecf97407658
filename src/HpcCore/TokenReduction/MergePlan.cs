// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

using HpcCore.Tensors;

/// <summary>
/// The result of ToMe's bipartite matching for a batch: which input token goes to which output token. Data only, so it
/// can be inspected and tested; <see cref="ToMe.Merge(MergePlan, Tensor, Tensor?)"/> and
/// <see cref="ToMe.Unmerge(MergePlan, Tensor)"/> apply it. Reuse it with
/// <see cref="ToMe.Plan(Tensor, int, MergePlan, in ToMeOptions)"/> to plan again without allocating. Owns its tensors:
/// dispose it.
/// </summary>
public sealed class MergePlan : IDisposable
{
    internal MergePlan(Tensor tokenMap, Tensor sources, Tensor destinations, int requestedR, int r)
    {
        TokenMap = tokenMap;
        Sources = sources;
        Destinations = destinations;
        RequestedR = requestedR;
        R = r;
    }

    /// <summary>I32 [B, N]: the output token each input token is merged into (ToMe's source map, as indices).</summary>
    public Tensor TokenMap { get; }

    /// <summary>I32 [B, R]: input positions of the merged (A) tokens, most similar first.</summary>
    public Tensor Sources { get; }

    /// <summary>I32 [B, R]: input positions of the (B) tokens they merge into.</summary>
    public Tensor Destinations { get; }

    /// <summary>The r the caller asked for.</summary>
    public int RequestedR { get; internal set; }

    /// <summary>The r applied: min(r, (N - protected) / 2), and 0 when no merge destination exists.</summary>
    public int R { get; }

    /// <summary>Batch size B.</summary>
    public int Batch => TokenMap.Shape[0];

    /// <summary>Input tokens N.</summary>
    public int InputTokens => TokenMap.Shape[1];

    /// <summary>Output tokens N - R.</summary>
    public int OutputTokens => InputTokens - R;

    // Scratch of the matching and the merge, kept between calls (see HostIndex.Reuse).
    internal Tensor? EvenIndex, OddIndex, EvenRows, OddRows, BestScore, BestPartner, Order, MergeWeights;

    /// <summary>Releases the plan's tensors.</summary>
    public void Dispose()
    {
        TokenMap.Dispose();
        Sources.Dispose();
        Destinations.Dispose();
        EvenIndex?.Dispose();
        OddIndex?.Dispose();
        EvenRows?.Dispose();
        OddRows?.Dispose();
        BestScore?.Dispose();
        BestPartner?.Dispose();
        Order?.Dispose();
        MergeWeights?.Dispose();
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

using HpcCore.Tensors;

/// <summary>
/// A pruning/fusion plan as data: output slot and weight of every input token; output m = sum over tokens n with
/// TokenMap[n] = m of Weights[n] x_n (one scatter-add). Plan again into it with
/// <see cref="Evit.Plan(Tensor, int, TokenPlan, in EvitOptions)"/> to avoid allocating. Owns its tensors: dispose it.
/// </summary>
public sealed class TokenPlan : IDisposable
{
    internal TokenPlan(Tensor kept, Tensor tokenMap, Tensor weights, int outputTokens)
    {
        Kept = kept;
        TokenMap = tokenMap;
        Weights = weights;
        OutputTokens = outputTokens;
    }

    /// <summary>I32 [B, k]: input positions of the kept tokens, in output order.</summary>
    public Tensor Kept { get; }

    /// <summary>I32 [B, N]: output slot of every input token (-1: dropped).</summary>
    public Tensor TokenMap { get; }

    /// <summary>F32 [B, N]: weight of every input token in its slot.</summary>
    public Tensor Weights { get; }

    /// <summary>Batch size B.</summary>
    public int Batch => TokenMap.Shape[0];

    /// <summary>Input tokens N.</summary>
    public int InputTokens => TokenMap.Shape[1];

    /// <summary>Output tokens.</summary>
    public int OutputTokens { get; }

    // Scratch of the selection, kept between calls (see HostIndex.Reuse).
    internal Tensor? TopIndices;

    /// <summary>Releases the plan's tensors.</summary>
    public void Dispose()
    {
        Kept.Dispose();
        TokenMap.Dispose();
        Weights.Dispose();
        TopIndices?.Dispose();
    }
}

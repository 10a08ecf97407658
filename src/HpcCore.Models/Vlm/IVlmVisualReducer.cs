// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Devices;

/// <summary>
/// A visual-token reduction between the vision encoder and the language model (VTC-CLS, HiRED, HiPrune, FoPru,
/// ToDRE's stage 1, MMTok, AIM's merge, and the random and pooling baselines). Each adapter turns the pipeline's
/// inputs into the arguments of the method's core function in <c>HpcCore.TokenReduction</c>, the same function the
/// ViT reducers (<c>HpcCore.Models.Vit.Reducers</c>) call, so a method has one implementation for both pipelines.
/// </summary>
public interface IVlmVisualReducer
{
    /// <summary>Short name for tables.</summary>
    string Name { get; }

    /// <summary>Keeps (or merges into) at most <paramref name="budget"/> of the visual tokens of <paramref name="input"/>.</summary>
    VlmKept Reduce(in VlmVisualInput input, int budget);
}

/// <summary>What a pre-LM reducer sees.</summary>
/// <param name="Vision">Encoder output and attention statistics.</param>
/// <param name="Projected">Projected visual tokens [N, C] (LM input space).</param>
/// <param name="Text">The question's input embeddings [Tq, C] (MMTok's text side).</param>
/// <param name="Backend">Backend for the core methods.</param>
/// <param name="Seed">Seed for the random baseline (fixed per question: runs are deterministic).</param>
public readonly record struct VlmVisualInput(VlmVision Vision, float[] Projected, float[] Text, IBackend Backend, int Seed);

/// <summary>
/// The visual tokens that enter the LM: either <see cref="Indices"/> of kept tokens (ascending), or
/// <see cref="Merged"/> pre-projector features [K, Dv] (pooling, merging); <see cref="Positions"/> [K] are their RoPE
/// positions among the visual tokens (0-based, ascending; a merged token takes its first source's).
/// </summary>
public sealed record VlmKept(int[]? Indices, float[]? Merged, int[] Positions)
{
    /// <summary>Tokens kept.</summary>
    public int Count => Positions.Length;

    /// <summary>A selection of <paramref name="indices"/> (ascending).</summary>
    public static VlmKept Select(int[] indices) => new(indices, null, indices);
}

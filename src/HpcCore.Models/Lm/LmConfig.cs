// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Kernels;
using HpcCore.Models.Lm.Positional;

/// <summary>Shape and numerics of a decoder-only language model.</summary>
/// <param name="Architecture">Block family.</param>
/// <param name="Dim">Model width C.</param>
/// <param name="HiddenDim">Feed-forward width.</param>
/// <param name="Layers">Number of decoder blocks.</param>
/// <param name="Heads">Query heads H (Dim / Heads is the head dim D).</param>
/// <param name="KvHeads">Key/value heads Hkv (H divisible by Hkv; Hkv = H is plain multi-head attention).</param>
/// <param name="VocabSize">Vocabulary size V.</param>
/// <param name="MaxSeqLen">Longest position the model was trained for (learned position tables have this many rows).</param>
/// <param name="NormEpsilon">RMSNorm / LayerNorm epsilon.</param>
/// <param name="RopeTheta">RoPE frequency base (Llama only).</param>
/// <param name="RopeLayout">RoPE pairing: llama2.c and Meta checkpoints interleave, Hugging Face Llama splits halves.</param>
/// <param name="RopeScaling">Llama 3.1's frequency scaling: config.json's <c>rope_scaling</c> (rope_type llama3, <see cref="Llama3RopeScaling"/>) or a GGUF file's <c>rope_freqs</c> (<see cref="RopeFrequencyFactors"/>); null: none.</param>
public sealed record LmConfig(
    LmArchitecture Architecture,
    int Dim,
    int HiddenDim,
    int Layers,
    int Heads,
    int KvHeads,
    int VocabSize,
    int MaxSeqLen,
    float NormEpsilon = 1e-5f,
    float RopeTheta = 10000f,
    RopeLayout RopeLayout = RopeLayout.Interleaved,
    RopeFrequencyScaling? RopeScaling = null)
{
    /// <summary>Head dim D = Dim / Heads.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Width of the K (and V) projection: KvHeads * HeadDim.</summary>
    public int KvDim => KvHeads * HeadDim;

    /// <summary>Query heads per key/value head.</summary>
    public int GroupSize => Heads / KvHeads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the shape is inconsistent.</summary>
    public void Validate()
    {
        static void Positive(string name, int v)
        {
            if (v <= 0) throw new ArgumentException($"LmConfig: {name} = {v} must be positive.", name);
        }
        Positive(nameof(Dim), Dim);
        Positive(nameof(HiddenDim), HiddenDim);
        Positive(nameof(Layers), Layers);
        Positive(nameof(Heads), Heads);
        Positive(nameof(KvHeads), KvHeads);
        Positive(nameof(VocabSize), VocabSize);
        Positive(nameof(MaxSeqLen), MaxSeqLen);
        // Upper bounds for sizes read from untrusted files: far above released models, low enough that caches and
        // tables sized from them cannot ask for terabytes.
        static void AtMost(string name, int v, int max)
        {
            if (v > max) throw new ArgumentException($"LmConfig: {name} = {v} is above {max}.", name);
        }
        AtMost(nameof(Dim), Dim, 1 << 16);
        AtMost(nameof(HiddenDim), HiddenDim, 1 << 18);
        AtMost(nameof(Layers), Layers, 1024);
        AtMost(nameof(VocabSize), VocabSize, 1 << 22);
        AtMost(nameof(MaxSeqLen), MaxSeqLen, 1 << 20);
        if (!(NormEpsilon > 0f && NormEpsilon < 1f))
            throw new ArgumentException($"LmConfig: NormEpsilon = {NormEpsilon} is outside (0, 1).", nameof(NormEpsilon));
        if (!(RopeTheta > 0f && float.IsFinite(RopeTheta)))
            throw new ArgumentException($"LmConfig: RopeTheta = {RopeTheta} must be positive and finite.", nameof(RopeTheta));
        if (Dim % Heads != 0)
            throw new ArgumentException($"LmConfig: Dim = {Dim} is not divisible by Heads = {Heads}.", nameof(Heads));
        if (Heads % KvHeads != 0)
            throw new ArgumentException($"LmConfig: Heads = {Heads} is not divisible by KvHeads = {KvHeads}.", nameof(KvHeads));
        if (Architecture == LmArchitecture.Llama && HeadDim % 2 != 0)
            throw new ArgumentException($"LmConfig: RoPE needs an even head dim, got {HeadDim}.", nameof(Heads));
        if (RopeScaling is not null)
        {
            if (Architecture != LmArchitecture.Llama) throw new ArgumentException($"LmConfig: RopeScaling needs RoPE; a {Architecture} model has learned positions.", nameof(RopeScaling));
            RopeScaling.Validate(HeadDim);
        }
        if (Architecture == LmArchitecture.Gpt2 && KvHeads != Heads)
            throw new ArgumentException($"LmConfig: GPT-2 has KvHeads = Heads, got {KvHeads} and {Heads}.", nameof(KvHeads));
    }
}

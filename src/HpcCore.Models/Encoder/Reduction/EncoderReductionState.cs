// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder.Reduction;

/// <summary>
/// The host-side view of one block's tokens handed to an <see cref="EncoderTokenReducer"/>: B texts padded to T tokens,
/// each with its own length (padding is never a merge source or destination), the token sizes (how many input tokens
/// each stands for), the attention exports asked for, and the arrays the reducer fills: where each token goes
/// (<see cref="Map"/>: an output slot, or -1 for padding), its weight in that slot (a slot becomes the weighted sum of
/// its tokens; weights of a slot sum to 1), the new lengths and sizes. Buffers are the session's, reused every call.
/// </summary>
public sealed class EncoderReductionState
{
    internal EncoderReductionState(int maxBatch, int maxTokens, int heads, int headDim)
    {
        Heads = heads;
        HeadDim = headDim;
        Lengths = new int[maxBatch];
        NewLengths = new int[maxBatch];
        Sizes = new float[maxBatch * maxTokens];
        NewSizes = new float[maxBatch * maxTokens];
        Map = new int[maxBatch * maxTokens];
        Weights = new float[maxBatch * maxTokens];
        KeyMeans = new float[maxBatch * maxTokens * headDim];
        ClassRow = new float[maxBatch * heads * maxTokens];
        SlotTotals = new float[maxTokens];
        Scratch = new int[maxTokens];
        Order = new int[maxTokens];
        Scores = new float[maxTokens];
        Partners = new int[maxTokens];
    }

    // Per-text working space for reducers (sized for the session's longest text, so planning never allocates).
    internal float[] SlotTotals { get; }
    internal int[] Scratch { get; }
    internal int[] Order { get; }
    internal float[] Scores { get; }
    internal int[] Partners { get; }

    /// <summary>Texts.</summary>
    public int Batch { get; internal set; }

    /// <summary>Padded tokens per text entering the reduction.</summary>
    public int Tokens { get; internal set; }

    /// <summary>Attention heads H.</summary>
    public int Heads { get; }

    /// <summary>Head size Dh.</summary>
    public int HeadDim { get; }

    /// <summary>Tokens of each text [B] (the rest of its T rows are padding).</summary>
    public int[] Lengths { get; }

    /// <summary>Size of each token [B, T] (1 for an input token; a merged token's is the sum of its parts).</summary>
    public float[] Sizes { get; }

    /// <summary>Keys averaged over heads [B, T, Dh], when <see cref="EncoderReductionExports.KeyMeans"/> was asked for.</summary>
    public float[] KeyMeans { get; }

    /// <summary>[CLS] attention probabilities [B, H, T], when <see cref="EncoderReductionExports.ClassRow"/> was asked for.</summary>
    public float[] ClassRow { get; }

    /// <summary>Output: each token's slot [B, T] in the reduced text (-1: padding, dropped).</summary>
    public int[] Map { get; }

    /// <summary>Output: each token's weight in its slot [B, T].</summary>
    public float[] Weights { get; }

    /// <summary>Output: tokens of each text after the reduction [B].</summary>
    public int[] NewLengths { get; }

    /// <summary>Output: sizes of the reduced tokens [B, T'] with T' = max of <see cref="NewLengths"/>.</summary>
    public float[] NewSizes { get; }
}

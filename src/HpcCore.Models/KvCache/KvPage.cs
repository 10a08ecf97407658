// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// A fixed-size block of one (layer, kv head)'s cache: keys (stored RoPE-rotated), values, each token's original
/// position id, and the per-token statistics eviction policies read (accumulated attention, observation-window
/// attention, number of queries that saw the token). Pages belong to a <see cref="KvPagePool"/>.
/// </summary>
public sealed class KvPage
{
    internal KvPage(int tokens, int headDim)
    {
        Keys = new float[tokens * headDim];
        Values = new float[tokens * headDim];
        Positions = new int[tokens];
        Scores = new float[tokens];
        WindowScores = new float[tokens];
        Seen = new int[tokens];
    }

    /// <summary>Keys [P, D], rotated at their original positions.</summary>
    public float[] Keys { get; }
    /// <summary>Values [P, D].</summary>
    public float[] Values { get; }
    /// <summary>Original position id of each token (RoPE position; never renumbered after eviction).</summary>
    public int[] Positions { get; }
    /// <summary>Attention each token received, summed over queries and the kv head's query heads (H2O).</summary>
    public float[] Scores { get; }
    /// <summary>Attention received from the observation-window queries (SnapKV, EMS local score).</summary>
    public float[] WindowScores { get; }
    /// <summary>How many queries attended to the token (EMS de-biases <see cref="Scores"/> by it).</summary>
    public int[] Seen { get; }

    /// <summary>Bytes of one page for <paramref name="tokens"/> tokens of head dim <paramref name="headDim"/>.</summary>
    public static long BytesFor(int tokens, int headDim) => (long)tokens * (2L * headDim * sizeof(float) + 4 * sizeof(int));
}

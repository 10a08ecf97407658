// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Ops;

/// <summary>
/// One attention call a policy is asked about: <paramref name="Rows"/> queries of <paramref name="Layer"/> at
/// positions <paramref name="FirstPosition"/>.. (their keys already appended), in a sequence whose prompt has
/// <paramref name="PromptLength"/> tokens. <paramref name="Query"/> is q [Rows, H, D] on the host when the policy
/// asked for it (<see cref="KvPolicy.ReadsQuery"/>), rotated at the true positions in
/// <see cref="KvPositionMode.Original"/> and unrotated in <see cref="KvPositionMode.Renumbered"/>; else empty.
/// </summary>
public readonly ref struct KvStep(int Layer, int Rows, int FirstPosition, int PromptLength, int Heads, ReadOnlySpan<float> Query, RopeOptions Rope = default)
{
    /// <summary>The model's RoPE settings (theta, layout, rotary dims), for policies that rotate a query themselves.</summary>
    public RopeOptions Rope { get; } = Rope;
    /// <summary>The layer.</summary>
    public int Layer { get; } = Layer;
    /// <summary>Query rows (1 when decoding).</summary>
    public int Rows { get; } = Rows;
    /// <summary>Position of the first row.</summary>
    public int FirstPosition { get; } = FirstPosition;
    /// <summary>Prompt length of the sequence.</summary>
    public int PromptLength { get; } = PromptLength;
    /// <summary>Query heads H.</summary>
    public int Heads { get; } = Heads;
    /// <summary>q [Rows, H, D] on the host, or empty.</summary>
    public ReadOnlySpan<float> Query { get; } = Query;
    /// <summary>Whether the call is part of the prompt.</summary>
    public bool IsPrefill => Rows > 1 || FirstPosition < PromptLength;
}

/// <summary>What a policy asks of one attention call: exports to read, and whether it filled the selection.</summary>
/// <param name="KeyTotals">Export each token's probabilities summed over the call's rows, per query head (H2O, EMS).</param>
/// <param name="WindowFromPosition">Also export the sums over rows at or past this position (SnapKV's observation window, EMS's local score); null: none.</param>
/// <param name="Probabilities">Export every row's probabilities (Recycled Attention's full step, the retrieval-head probe).</param>
/// <param name="Selected">The policy filled the <see cref="KvSelection"/>: attend only over it.</param>
public readonly record struct KvRequest(bool KeyTotals = false, int? WindowFromPosition = null, bool Probabilities = false, bool Selected = false);

/// <summary>
/// The exports of one attention call, on the host, indexed by token (not slot): <see cref="KeyTotals"/> and
/// <see cref="WindowTotals"/> are [H, <see cref="Width"/>], <see cref="Probabilities"/> [Rows, H, Width]; empty when not
/// requested. Valid until the next call.
/// </summary>
public readonly ref struct KvExports(ReadOnlySpan<float> keyTotals, ReadOnlySpan<float> windowTotals, ReadOnlySpan<float> probabilities, int width)
{
    /// <summary>Per-query-head probabilities summed over rows [H, Width].</summary>
    public ReadOnlySpan<float> KeyTotals { get; } = keyTotals;
    /// <summary>The same over the observation-window rows [H, Width].</summary>
    public ReadOnlySpan<float> WindowTotals { get; } = windowTotals;
    /// <summary>Every row's probabilities [Rows, H, Width].</summary>
    public ReadOnlySpan<float> Probabilities { get; } = probabilities;
    /// <summary>Row stride: the cache's tokens per head.</summary>
    public int Width { get; } = width;
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// What <see cref="PagedAttention"/> reads besides the cache and what it exports for eviction policies.
/// <c>default</c> is plain causal attention over every cached token with nothing exported.
/// </summary>
/// <param name="Selection">Attend only over these tokens of each kv head (TokenSelect, Recycled Attention).</param>
/// <param name="AccumulateScores">Add each query's probabilities to the tokens' <see cref="KvPage.Scores"/> and count <see cref="KvPage.Seen"/> (H2O, EMS).</param>
/// <param name="WindowFromPosition">
/// Queries at positions &gt;= this add their probabilities to <see cref="KvPage.WindowScores"/>
/// (SnapKV's observation window, EMS's local score); null disables it.
/// </param>
/// <param name="UseCompensation">Include each head's compensation token: mean dropped key/value with logit bias log(n) (RazorAttention).</param>
/// <param name="Capture">Output [rows, H, <paramref name="CaptureStride"/>]: each query row's probabilities by token index.</param>
/// <param name="CaptureStride">Row stride of <paramref name="Capture"/> (at least the head's token count).</param>
public readonly record struct PagedAttentionOptions(
    KvSelection? Selection = null,
    bool AccumulateScores = false,
    int? WindowFromPosition = null,
    bool UseCompensation = false,
    float[]? Capture = null,
    int CaptureStride = 0);

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// The parameters a policy may take, each null for "the registry's default" (<see cref="KvPolicyRegistry"/> holds the
/// one set of defaults, derived from <see cref="Budget"/>, for the CLI, the C ABI and the docs). A policy reads only
/// the ones it has; <see cref="KvPolicyRegistry.Create(string, KvPolicySettings)"/> refuses the others by name.
/// </summary>
public sealed record KvPolicySettings
{
    /// <summary>Tokens kept (or read) per head.</summary>
    public int Budget { get; init; }
    /// <summary>Leading tokens always kept (StreamingLLM, TokenSelect, RazorAttention, EMS). Default min(4, budget / 4).</summary>
    public int? Sinks { get; init; }
    /// <summary>Newest tokens always kept (H2O: budget / 2; EMS: min(16, budget / 4)).</summary>
    public int? Recent { get; init; }
    /// <summary>Observation window of prompt queries (SnapKV, EMS). Default max(1, min(32, budget / 2)).</summary>
    public int? Window { get; init; }
    /// <summary>SnapKV's pool width (odd). Default 5.</summary>
    public int? Kernel { get; init; }
    /// <summary>SnapKV's pooling: "avg" (default, the authors') or "max" (PyramidKV, AdaKV).</summary>
    public SnapKvPooling? Pooling { get; init; }
    /// <summary>TokenSelect's newest tokens always attended. Default min(32, budget / 4).</summary>
    public int? Local { get; init; }
    /// <summary>Recycled Attention's full-step stride. Default 8.</summary>
    public int? Stride { get; init; }
    /// <summary>Recycled Attention's trigger: "stride" (default) or "query" (dynamic).</summary>
    public RecycleTrigger? Trigger { get; init; }
    /// <summary>Cosine threshold: TokenSelect's Selection Cache, Recycled Attention's query trigger. Default 0.9.</summary>
    public float? Threshold { get; init; }
    /// <summary>RazorAttention's compression ratio. Default ContextHint / budget, or 4 without a hint.</summary>
    public float? Ratio { get; init; }
    /// <summary>RazorAttention's smallest recent buffer. Default max(1, budget / 4).</summary>
    public int? BufferFloor { get; init; }
    /// <summary>RoPE positions of the cached keys: null is the policy's default (renumbered for TokenSelect, original otherwise).</summary>
    public KvPositionMode? Positions { get; init; }
    /// <summary>Expected context length (RazorAttention's default ratio).</summary>
    public int ContextHint { get; init; }
    /// <summary>RazorAttention's retrieval heads [layers, kvHeads] (from <see cref="RetrievalHeadProbe"/>).</summary>
    public bool[,]? RetrievalHeads { get; init; }
}

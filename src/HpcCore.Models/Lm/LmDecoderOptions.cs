// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Models.KvCache;
using HpcCore.Tensors;

/// <summary>Run-time settings of an <see cref="LmDecoder"/>; <c>default</c> is valid.</summary>
/// <param name="MaxTokens">Most tokens a head's cache holds; 0 means the model's MaxSeqLen.</param>
/// <param name="PrefillChunk">Prompt tokens per forward chunk; 0 means the policy's own (<see cref="KvPolicy.PrefillChunk"/>), else 64.</param>
/// <param name="PageTokens">Tokens per KV page; 0 means 16.</param>
/// <param name="Policy">KV selection / eviction policy; null means <see cref="FullKvPolicy"/> (keep everything).</param>
/// <param name="CacheDType">Cached key/value type: F32 (default), F16 or BF16 (attention accumulates in F32).</param>
/// <param name="Positions">RoPE positions of cached keys; null means the policy's own (<see cref="KvPolicy.Positions"/>).</param>
/// <param name="Cache">
/// A cache shared with other decoders (one page pool, per-sequence block tables; the caller owns and disposes it);
/// null means the decoder creates and owns one for a single sequence.
/// </param>
/// <param name="Sequence">This decoder's sequence in a shared <paramref name="Cache"/>.</param>
public readonly record struct LmDecoderOptions(
    int MaxTokens = 0,
    int PrefillChunk = 0,
    int PageTokens = 0,
    KvPolicy? Policy = null,
    DType CacheDType = DType.F32,
    KvPositionMode? Positions = null,
    PagedKvCache? Cache = null,
    int Sequence = 0);

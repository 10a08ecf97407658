// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Models.KvCache;

/// <summary>Run-time settings of an <see cref="LmDecoder"/>; <c>default</c> is valid.</summary>
/// <param name="MaxTokens">Most tokens a head's cache holds; 0 means the model's MaxSeqLen.</param>
/// <param name="PrefillChunk">Prompt tokens per forward chunk; 0 means 64.</param>
/// <param name="PageTokens">Tokens per KV page; 0 means 16.</param>
/// <param name="Policy">KV selection / eviction policy; null means <see cref="FullKvPolicy"/> (keep everything).</param>
public readonly record struct LmDecoderOptions(int MaxTokens = 0, int PrefillChunk = 0, int PageTokens = 0, KvPolicy? Policy = null);

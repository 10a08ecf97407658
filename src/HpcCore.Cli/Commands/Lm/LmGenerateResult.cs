// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Commands.Lm;

/// <summary>What `lm generate --json` prints.</summary>
internal sealed record LmGenerateResult(string Text, int[] PromptTokens, int[] GeneratedTokens, double DecodeTokensPerSecond,
    long KvBytesHeld, long KvPeakBytesHeld, string Policy, string Positions, float Temperature, int TopK, float TopP, int? Context);

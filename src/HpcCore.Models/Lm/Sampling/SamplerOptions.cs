// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Sampling;

/// <summary>How the next token is drawn; <c>default</c> is greedy (argmax, lowest id on ties).</summary>
/// <param name="Temperature">Softmax temperature; 0 means greedy.</param>
/// <param name="TopK">Keep only the K most likely tokens (0: off).</param>
/// <param name="TopP">Nucleus sampling: keep the smallest most-likely set whose mass reaches P (0 or &gt;= 1: off).</param>
/// <param name="Seed">Random seed; the same seed, logits and options give the same tokens.</param>
public readonly record struct SamplerOptions(float Temperature = 0f, int TopK = 0, float TopP = 0f, ulong Seed = 0);

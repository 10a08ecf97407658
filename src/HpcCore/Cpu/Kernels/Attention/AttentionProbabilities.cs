// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The two ways a value micro-kernel of the fused attention tile gets a key block's probabilities P^T: as stored by an
// earlier call, or taken from the block's scores on the way (the first call of a block, which writes them back for the
// others). One kernel body serves both; the mode is a type argument, so the JIT compiles each way as its own loop.
namespace HpcCore.Cpu;

/// <summary>How a value micro-kernel gets P^T: as stored, or from the block's scores on the way (the first pass of ValuesBlock).</summary>
internal static class AttentionProbabilities
{
    /// <summary>A JIT-time constant per instance.</summary>
    public interface IMode
    {
        static abstract bool FromScores { get; }
    }

    public struct Stored : IMode
    {
        public static bool FromScores => false;
    }

    public struct FromScoresOnTheWay : IMode
    {
        public static bool FromScores => true;
    }
}

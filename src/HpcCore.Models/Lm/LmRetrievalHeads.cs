// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Devices;
using HpcCore.Models.KvCache;

/// <summary>RazorAttention's offline retrieval-head detection run on a model (see <see cref="RetrievalHeadProbe"/>).</summary>
public static class LmRetrievalHeads
{
    /// <summary>
    /// Feeds <paramref name="repeats"/> copies of <paramref name="period"/> seeded random tokens and returns the
    /// retrieval heads [layers, kvHeads] (top 14% by induction score plus top 1% by echo score).
    /// </summary>
    public static bool[,] Detect(LmConfig config, LmWeights weights, IBackend backend, int period = 64, int repeats = 3, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 2);
        var probe = new RetrievalHeadProbe(period);
        int length = Math.Min(period * repeats, config.MaxSeqLen);
        using var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(MaxTokens: length, Policy: probe));
        var rng = new Random(seed);
        var block = new int[period];
        for (int i = 0; i < period; i++) block[i] = rng.Next(3, config.VocabSize);
        var tokens = new int[length];
        for (int i = 0; i < length; i++) tokens[i] = block[i % period];
        decoder.Prefill(tokens);
        return probe.RetrievalHeads();
    }
}

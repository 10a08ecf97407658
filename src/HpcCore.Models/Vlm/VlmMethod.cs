// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vlm;

using HpcCore.Models.Vlm.Reducers;
using HpcCore.TokenReduction;

/// <summary>A VLM reduction configuration: a reducer before the LM, one inside it, or both (null: none).</summary>
/// <param name="Name">Table name.</param>
/// <param name="Visual">Before the LM.</param>
/// <param name="InLm">Inside the LM.</param>
public sealed record VlmMethod(string Name, IVlmVisualReducer? Visual, IVlmLayerReducer? InLm)
{
    /// <summary>Method names <see cref="Create"/> knows, in table order.</summary>
    public static IReadOnlyList<string> Known { get; } =
        ["full", "random", "pool", "fastv", "vtc", "hired", "hiprune", "fopru", "todre", "mmtok", "aim"];

    /// <summary>The methods that reduce only before the LM (the ones <see cref="VlmChat"/> combines with a KV policy), in table order.</summary>
    public static IReadOnlyList<string> PreLm { get; } = ["full", "random", "pool", "vtc", "hired", "hiprune", "fopru", "mmtok"];

    /// <summary>
    /// The method <paramref name="name"/> for a decoder of <paramref name="lmLayers"/> layers and an encoder of
    /// <paramref name="vitDepth"/> blocks. Settings (docs/VLM.md): VTC-CLS ensembles encoder blocks depth/2..last;
    /// HiRED alpha 0.5; HiPrune's object block depth/4; FoPru rank; ToDRE stage 2 keeps half the visual tokens after
    /// decoder layer 1; MMTok lambda 1; AIM merges to the budget then prunes from decoder layer lmLayers/2; FastV
    /// prunes after decoder layer 0 (the earliest attention; FastV's K = 2 is for 32-layer models).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static VlmMethod Create(string name, int lmLayers, int vitDepth)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            "full" => new(name, null, null),
            "random" => new(name, new RandomSelector(), null),
            "pool" => new(name, new PoolSelector(), null),
            "fastv" => new(name, null, new FastVReducer(0)),
            "vtc" => new(name, new VtcClsSelector(vitDepth / 2), null),
            "hired" => new(name, new HiRedSelector(0.5), null),
            "hiprune" => new(name, new HiPruneSelector(vitDepth / 4), null),
            "fopru" => new(name, new FoPruSelector(FoPruStrategy.Rank), null),
            "todre" => new(name, new ToDreSelector(), new ToDreRelevanceReducer(Math.Min(1, lmLayers - 1), 0.5)),
            "mmtok" => new(name, new MmTokSelector(1f), null),
            "aim" => new(name, new AimMerger(), new AimLayerReducer(lmLayers, lmLayers / 2, lmLayers)),
            _ => throw new ArgumentException($"VlmMethod.Create: unknown method '{name}' (known: {string.Join(", ", Known)})", nameof(name)),
        };
    }
}

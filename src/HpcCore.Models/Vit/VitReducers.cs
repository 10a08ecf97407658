// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Models.Vit.Reducers;

/// <summary>
/// Builds the <see cref="IVitTokenReducer"/> a <see cref="VitMethodSpec"/> names (null for the baseline):
/// <list type="bullet">
/// <item><c>baseline</c>: the plain model.</item>
/// <item><c>tome:r=R</c>: ToMe merging R tokens in every block, proportional attention, sizes tracked.</item>
/// <item><c>evit:keep=RHO[;layers=L,..]</c>: EViT at its drop blocks (default depth/4, depth/2, 3 depth/4).</item>
/// <item><c>vtc:keep=RHO[;layer=L]</c>: VTC-CLS-style [CLS]-attention pruning at one block (default depth/2).</item>
/// <item><c>ztp:keep=RHO[;layer=L;iters=N]</c>: Zero-TPrune (PageRank importance + similarity) at one block (default 1).</item>
/// </list>
/// Reducers that cache plans are <see cref="IDisposable"/>.
/// </summary>
public static class VitReducers
{
    /// <summary>Method names this build knows.</summary>
    public static IReadOnlyList<string> Known { get; } = ["baseline", "tome", "evit", "vtc", "ztp"];

    /// <summary>The reducer for <paramref name="spec"/> on a model of shape <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException">Unknown method or bad argument.</exception>
    public static IVitTokenReducer? Create(VitMethodSpec spec, VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(config);
        int depth = config.Depth;
        return spec.Name switch
        {
            "baseline" or "none" => null,
            "tome" => new ToMeReducer(spec.Int("r", 8), depth),
            "evit" => new EvitReducer(spec.Double("keep", 0.7), spec.Layers("layers", EvitReducer.DefaultLayers(depth)), depth),
            "vtc" => new ClassPruneReducer(spec.Double("keep", 0.5), Layer(spec, "layer", depth / 2, depth)),
            "ztp" => new ZeroTPruneReducer(spec.Double("keep", 0.5), Layer(spec, "layer", Math.Min(1, depth - 1), depth),
                spec.Int("iters", HpcCore.TokenReduction.ZeroTPrune.DefaultIterations)),
            _ => throw new ArgumentException(
                $"VitReducers.Create: unknown method '{spec.Text}' (known: {string.Join(", ", Known)})", nameof(spec)),
        };
    }

    private static int Layer(VitMethodSpec spec, string key, int fallback, int depth)
    {
        int l = spec.Int(key, fallback);
        if (l < 0 || l >= depth)
            throw new ArgumentException($"VitReducers.Create: {key}={l} in '{spec.Text}' is outside [0, {depth})", nameof(spec));
        return l;
    }
}

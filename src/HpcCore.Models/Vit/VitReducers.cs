// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

using HpcCore.Models.Vit.Reducers;
using HpcCore.TokenReduction;

/// <summary>
/// Builds the <see cref="IVitTokenReducer"/> a <see cref="VitMethodSpec"/> names (null for the baseline). Blocks are
/// 0-based; <c>layers=a,b</c> lists blocks, <c>layer=L</c> is one block; keep is the kept fraction of the patches:
/// <list type="bullet">
/// <item><c>baseline</c>: the plain model.</item>
/// <item><c>tome:r=R[;layers=..]</c>: ToMe merging R tokens per block (default every block), proportional attention.</item>
/// <item><c>evit:keep=RHO[;layers=..]</c>: EViT at its drop blocks (default depth/4, depth/2, 3 depth/4).</item>
/// <item><c>vtc:keep=RHO[;layers=..][;from=L0]</c>: VTC-CLS, [CLS] rows summed over blocks L0..L (default L = depth/2, L0 = 0).</item>
/// <item><c>ztp:keep=RHO[;layer=L;iters=N]</c>: Zero-TPrune (PageRank importance + similarity) at one block (default 1).</item>
/// <item><c>hiprune:keep=RHO[;layer=L;object=Lo;alpha=A]</c>: HiPrune anchors (block Lo, default L/2), buffers, registers (block L, default depth/2).</item>
/// <item><c>fopru:keep=RHO[;layer=L;strategy=rank|row]</c>: FoPru on the [CLS] attention of block L (default depth/2).</item>
/// <item><c>todre:keep=RHO[;layers=..]</c>: ToDRE's diverse k-center selection seeded at the most-attended patch (default depth/2).</item>
/// <item><c>mmtok:keep=RHO[;layers=..;lambda=W]</c>: MMTok maximum coverage of [CLS] and the patches (default depth/2).</item>
/// <item><c>aim[:from=L1;to=L2;tau=T]</c>: AIM's PageRank pruning, all patches up to L1, none from L2 (default depth/2, depth).</item>
/// <item><c>expedit:size=S[;layer=L]</c>: Expedit clustering into S x S super-tokens at block L (default depth/2).</item>
/// </list>
/// Reducers that cache plans or scores are <see cref="IDisposable"/>.
/// </summary>
public static class VitReducers
{
    /// <summary>Method names this build knows.</summary>
    public static IReadOnlyList<string> Known { get; } =
        ["baseline", "tome", "evit", "vtc", "ztp", "hiprune", "fopru", "todre", "mmtok", "aim", "expedit"];

    /// <summary>
    /// The keys each method takes (the list above says what they mean). <see cref="Create"/> refuses any other key,
    /// so a typo such as <c>tome:keep=0.5</c> or <c>tome:r=8;layer=3</c> fails instead of running the default.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> Keys { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["baseline"] = [],
        ["tome"] = ["r", "layers"],
        ["evit"] = ["keep", "layers"],
        ["vtc"] = ["keep", "layers", "layer", "from"],
        ["ztp"] = ["keep", "layer", "iters"],
        ["hiprune"] = ["keep", "layer", "object", "alpha"],
        ["fopru"] = ["keep", "layer", "strategy"],
        ["todre"] = ["keep", "layers", "layer"],
        ["mmtok"] = ["keep", "layers", "layer", "lambda"],
        ["aim"] = ["from", "to", "tau"],
        ["expedit"] = ["size", "layer"],
    };

    /// <summary>
    /// Checks <paramref name="spec"/>'s method name and keys without a model (values and blocks are checked by
    /// <see cref="Create"/>, which needs the depth).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown method or key.</exception>
    public static void CheckKeys(VitMethodSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string name = spec.Name == "none" ? "baseline" : spec.Name;
        if (!Keys.TryGetValue(name, out var keys))
            throw new ArgumentException($"VitReducers: unknown method '{spec.Name}' in '{spec.Text}' (known: {string.Join(", ", Known)})", nameof(spec));
        foreach (string key in spec.Arguments.Keys)
            if (!keys.Contains(key))
                throw new ArgumentException(
                    $"VitReducers: {name} has no setting '{key}' in '{spec.Text}'; it takes {(keys.Length == 0 ? "none" : string.Join(", ", keys))}", nameof(spec));
    }

    /// <summary>The reducer for <paramref name="spec"/> on a model of shape <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException">Unknown method or bad argument.</exception>
    public static IVitTokenReducer? Create(VitMethodSpec spec, VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(config);
        CheckKeys(spec);
        int depth = config.Depth, middle = depth / 2;
        try
        {
            return spec.Name switch
            {
                "baseline" or "none" => null,
                "tome" => ToMeFrom(spec, depth),
                "evit" => new EvitReducer(spec.Double("keep", 0.7), spec.Layers("layers", EvitReducer.DefaultLayers(depth)), depth),
                "vtc" => new VtcClsReducer(spec.Double("keep", 0.5), Blocks(spec, middle), spec.Int("from", 0), depth),
                "ztp" => new ZeroTPruneReducer(spec.Double("keep", 0.5), Layer(spec, "layer", Math.Min(1, depth - 1), depth),
                    spec.Int("iters", ZeroTPrune.DefaultIterations)),
                "hiprune" => HiPrune(spec, middle, depth),
                "fopru" => new FoPruReducer(spec.Double("keep", 0.5), Layer(spec, "layer", middle, depth), depth, Strategy(spec)),
                "todre" => new ToDreReducer(spec.Double("keep", 0.5), Blocks(spec, middle), depth),
                "mmtok" => new MmTokReducer(spec.Double("keep", 0.5), Blocks(spec, middle), depth, (float)spec.Double("lambda", 1)),
                "aim" => new AimReducer(spec.Int("from", middle), spec.Int("to", depth), config, (float)spec.Double("tau", Aim.DefaultTemperature)),
                "expedit" => new ExpeditReducer(Layer(spec, "layer", middle, depth), ExpeditSize(spec, config.Grid), depth),
                _ => throw new ArgumentException(
                    $"VitReducers.Create: unknown method '{spec.Text}' (known: {string.Join(", ", Known)})", nameof(spec)),
            };
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new ArgumentException($"VitReducers.Create: '{spec.Text}' has a malformed value: {ex.Message}", nameof(spec), ex);
        }
    }

    /// <summary><c>tome:r=R[;layers=...]</c>, or a schedule <c>tome:r=R0,R1,...</c> with one r per block.</summary>
    private static ToMeReducer ToMeFrom(VitMethodSpec spec, int depth)
    {
        if (!spec.Arguments.TryGetValue("r", out var r) || !r.Contains(',', StringComparison.Ordinal))
            return new ToMeReducer(spec.Int("r", 8), depth, spec.Arguments.ContainsKey("layers") ? spec.Layers("layers", []) : null);
        int[] schedule = spec.Ints("r", []);
        if (schedule.Length != depth || spec.Arguments.ContainsKey("layers"))
            throw new ArgumentException(
                $"VitReducers.Create: '{spec.Text}' gives {schedule.Length} r values for a {depth}-block model (a schedule needs one per block and no layers=)",
                nameof(spec));
        return new ToMeReducer(schedule);
    }

    private static HiPruneReducer HiPrune(VitMethodSpec spec, int middle, int depth)
    {
        int layer = Layer(spec, "layer", middle, depth);
        return new HiPruneReducer(spec.Double("keep", 0.5), layer, spec.Int("object", layer / 2), depth,
            new HiPruneOptions(AnchorRatio: spec.Double("alpha", 0)));
    }

    // Expedit clusters the full patch grid (it is the only reduction of its spec), so the size must fit in it.
    private static int ExpeditSize(VitMethodSpec spec, int grid)
    {
        int size = spec.Int("size", grid / 2);
        if (size < 1 || size > grid)
            throw new ArgumentException($"VitReducers.Create: size={size} in '{spec.Text}' is outside [1, {grid}] (the patch grid is {grid} x {grid})", nameof(spec));
        return size;
    }

    private static FoPruStrategy Strategy(VitMethodSpec spec) =>
        spec.Arguments.TryGetValue("strategy", out var s)
            ? s.ToLowerInvariant() switch
            {
                "rank" => FoPruStrategy.Rank,
                "row" => FoPruStrategy.Row,
                _ => throw new ArgumentException($"VitReducers.Create: strategy={s} in '{spec.Text}' is not rank or row", nameof(spec)),
            }
            : FoPruStrategy.Rank;

    // layers=a,b or layer=L (the single-block spelling), else the default block.
    private static int[] Blocks(VitMethodSpec spec, int fallback) =>
        spec.Arguments.ContainsKey("layers") ? spec.Layers("layers", []) : [spec.Int("layer", fallback)];

    private static int Layer(VitMethodSpec spec, string key, int fallback, int depth)
    {
        int l = spec.Int(key, fallback);
        if (l < 0 || l >= depth)
            throw new ArgumentException($"VitReducers.Create: {key}={l} in '{spec.Text}' is outside [0, {depth})", nameof(spec));
        return l;
    }
}

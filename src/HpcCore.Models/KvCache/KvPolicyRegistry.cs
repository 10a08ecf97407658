// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Globalization;

/// <summary>
/// Every KV policy, once: its name, what it does, the settings it takes and how it is built with the one set of
/// defaults. The CLI (<c>--kv-policy name[:key=value;...]</c>), the C ABI (<c>hpc_kv_policy_params</c>) and the docs
/// all read this table. Adding a policy is its file plus one entry here.
/// </summary>
public static class KvPolicyRegistry
{
    /// <summary>One registered policy.</summary>
    /// <param name="Name">Command-line name.</param>
    /// <param name="Summary">One line: the rule and its paper.</param>
    /// <param name="Keys">Spec keys it accepts besides "budget" and "positions".</param>
    /// <param name="Build">Builds it from settings with the defaults applied.</param>
    public sealed record Entry(string Name, string Summary, string[] Keys, Func<KvPolicySettings, KvPolicy> Build);

    /// <summary>The policies, in the order reports list them.</summary>
    public static IReadOnlyList<Entry> Entries { get; } =
    [
        new("full", "keep everything (the baseline)", [], _ => new FullKvPolicy()),
        new("streaming", "StreamingLLM: attention sinks + most recent tokens (Xiao et al. 2024)", ["sinks"],
            s => new StreamingLlmKvPolicy(s.Budget, Sinks(s))),
        new("h2o", "H2O: recent tokens + heavy hitters by accumulated attention (Zhang et al. 2023)", ["recent"],
            s => new H2OKvPolicy(s.Budget, s.Recent ?? -1)),
        new("snapkv", "SnapKV: observation-window votes, pooled, after prefill (Li et al. 2024)", ["window", "kernel", "pool"],
            s => new SnapKvPolicy(s.Budget, Window(s), s.Kernel ?? 5, s.Pooling ?? SnapKvPooling.Average)),
        new("tokenselect", "TokenSelect: per-head soft-voted top-k tokens per step, nothing evicted (Wu et al. 2024)", ["sinks", "local", "threshold"],
            s => new TokenSelectKvPolicy(s.Budget, Sinks(s), s.Local ?? Math.Min(32, s.Budget / 4), s.Threshold ?? 0.9f,
                s.Positions ?? KvPositionMode.Renumbered)),
        new("recycled", "Recycled Attention: full steps pick top-k tokens reused in between (Xu et al. 2024)", ["stride", "trigger", "threshold"],
            s => new RecycledKvPolicy(s.Budget, s.Stride ?? 8, s.Trigger ?? RecycleTrigger.Stride, s.Threshold ?? 0.9f)),
        new("razor", "RazorAttention: retrieval heads full, others sinks + recent + compensation token (Tang et al. 2024)", ["sinks", "ratio", "floor"],
            s => new RazorAttentionKvPolicy(
                s.RetrievalHeads ?? throw new ArgumentException("KvPolicyRegistry: razor needs the retrieval-head map (RetrievalHeadProbe).", nameof(s)),
                s.Ratio ?? Math.Max(1f, s.ContextHint > 0 ? (float)s.ContextHint / s.Budget : 4f), s.BufferFloor ?? Math.Max(1, s.Budget / 4), Sinks(s))),
        new("ems", "EMS: global-local score, evict then merge into similar centres (reconstructed)", ["window", "sinks", "recent"],
            s => new EmsKvPolicy(s.Budget, Window(s), Sinks(s), s.Recent ?? Math.Min(16, s.Budget / 4))),
    ];

    /// <summary>The names, comma-separated (for messages and help).</summary>
    public static string Names { get; } = string.Join(", ", Entries.Select(e => e.Name));

    /// <summary>The entry called <paramref name="name"/> (case-insensitive); throws naming the known ones.</summary>
    public static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"KvPolicyRegistry: unknown policy '{name}'; expected one of {Names}.", nameof(name));
    }

    /// <summary>Builds <paramref name="name"/> from <paramref name="settings"/> (defaults applied; Positions set when given).</summary>
    public static KvPolicy Create(string name, KvPolicySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var entry = Find(name);
        if (settings.Budget <= 0 && entry.Name != "full")
            throw new ArgumentOutOfRangeException(nameof(settings), $"KvPolicyRegistry: {entry.Name} needs a positive budget, got {settings.Budget}.");
        var policy = entry.Build(settings);
        if (settings.Positions is { } p) policy.Positions = p;
        return policy;
    }

    /// <summary>
    /// Parses a spec <c>name</c> or <c>name:key=value;key=value</c> (keys: this policy's <see cref="Entry.Keys"/> plus
    /// "budget" and "positions") over <paramref name="defaults"/>, refusing unknown keys and bad values by name.
    /// </summary>
    public static (Entry Entry, KvPolicySettings Settings) Parse(string spec, KvPolicySettings defaults)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(defaults);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        var entry = Find(colon < 0 ? spec.Trim() : spec[..colon].Trim());
        var s = defaults;
        if (colon < 0) return (entry, s);
        foreach (var part in spec[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"KV policy '{spec}': '{part}' is not key=value.", nameof(spec));
            string key = part[..eq].Trim().ToLowerInvariant(), value = part[(eq + 1)..].Trim();
            if (key is not ("budget" or "positions") && !entry.Keys.Contains(key))
                throw new ArgumentException($"KV policy '{spec}': {entry.Name} has no setting '{key}'; it takes budget, positions{string.Concat(entry.Keys.Select(k => ", " + k))}.", nameof(spec));
            s = key switch
            {
                "budget" => s with { Budget = Int(key, value, 1) },
                "positions" => s with { Positions = Enum<KvPositionMode>(key, value) },
                "sinks" => s with { Sinks = Int(key, value, 0) },
                "recent" => s with { Recent = Int(key, value, 0) },
                "window" => s with { Window = Int(key, value, 1) },
                "kernel" => s with { Kernel = Int(key, value, 1) },
                "pool" => s with { Pooling = value.ToLowerInvariant() switch
                {
                    "avg" or "average" => SnapKvPooling.Average,
                    "max" => SnapKvPooling.Max,
                    _ => throw Bad(key, value, "avg or max"),
                } },
                "local" => s with { Local = Int(key, value, 0) },
                "stride" => s with { Stride = Int(key, value, 1) },
                "trigger" => s with { Trigger = Enum<RecycleTrigger>(key, value) },
                "threshold" => s with { Threshold = Float(key, value) },
                "ratio" => s with { Ratio = Float(key, value) },
                "floor" => s with { BufferFloor = Int(key, value, 1) },
                _ => throw Bad(key, value, "a known key"),
            };
        }
        return (entry, s);

        ArgumentException Bad(string key, string value, string rule) => new($"KV policy '{spec}': {key} = '{value}' must be {rule}.", nameof(spec));
        int Int(string key, string value, int min) =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min ? v : throw Bad(key, value, $"an integer >= {min}");
        float Float(string key, string value) =>
            float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v : throw Bad(key, value, "a finite number");
        T Enum<T>(string key, string value) where T : struct, System.Enum =>
            System.Enum.TryParse<T>(value, ignoreCase: true, out var v) && System.Enum.IsDefined(v) ? v
                : throw Bad(key, value, string.Join(" or ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant())));
    }

    private static int Sinks(KvPolicySettings s) => s.Sinks ?? Math.Min(4, s.Budget / 4);

    private static int Window(KvPolicySettings s) => s.Window ?? Math.Max(1, Math.Min(32, s.Budget / 2));
}

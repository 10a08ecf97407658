// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using HpcCore.Models.KvCache;
using HpcCore.Tensors;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>
/// The KV-cache options `lm generate` and `lm eval` share: policy spec, positions and cache dtype. Every value is
/// checked by the parser (KvPolicyRegistry.Parse for the spec), so a typo fails before the model is read.
/// </summary>
internal sealed class LmKvOptions
{
    private static readonly Dictionary<string, KvPositionMode> PositionModes = new(StringComparer.Ordinal)
    {
        ["original"] = KvPositionMode.Original,
        ["renumbered"] = KvPositionMode.Renumbered,
    };

    private static readonly Dictionary<string, DType> DTypes = new(StringComparer.Ordinal)
    {
        ["f32"] = Tensors.DType.F32,
        ["f16"] = Tensors.DType.F16,
        ["bf16"] = Tensors.DType.BF16,
    };

    /// <param name="allowList">`lm eval`: a comma-separated list of specs, or all.</param>
    public LmKvOptions(bool allowList)
    {
        Policy = new("--kv-policy")
        {
            Description = $"KV policy: {KvPolicyRegistry.Names}; settings as name:key=value;key=value (e.g. snapkv:pool=max, " +
                          "recycled:trigger=query; docs/CLI.md lists the keys)" +
                          (allowList ? ". Several, comma-separated, or all." : "."),
            DefaultValueFactory = _ => "full",
        };
        Policy.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            try
            {
                var specs = Specs(value, allowList);
                if (specs.Count == 0) result.AddError($"--kv-policy: '{value}' names no policy; expected {KvPolicyRegistry.Names} or all");
                foreach (string spec in specs) KvPolicyRegistry.Parse(spec, new KvPolicySettings());
            }
            catch (ArgumentException e)
            {
                result.AddError($"--kv-policy: {e.Message.TrimEnd('.')}");
            }
        });
        Positions.AcceptOnlyFromAmong([.. PositionModes.Keys]);
        DType.AcceptOnlyFromAmong([.. DTypes.Keys]);
    }

    public Option<string> Policy { get; }

    public Option<string?> Positions { get; } = new("--kv-positions")
    {
        Description = "RoPE positions of cached keys: original (rotated at their own positions) or renumbered (by index in the cache; " +
                      "generates past the trained context with an evicting policy). Default: the policy's own.",
    };

    public Option<string> DType { get; } = new("--kv-dtype") { Description = "Cached key/value type: f32, f16 or bf16.", DefaultValueFactory = _ => "f32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Policy);
        command.Options.Add(Positions);
        command.Options.Add(DType);
    }

    /// <summary>The policy specs given (every registered policy for all; `lm generate` takes exactly one).</summary>
    public static IReadOnlyList<string> Specs(string value, bool allowList)
    {
        if (!allowList) return [value];
        if (value.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return [.. KvPolicyRegistry.Entries.Select(e => e.Name)];
        return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public KvPositionMode? PositionMode(ParseResult r) => r.GetValue(Positions) is { } v ? PositionModes[v] : null;

    public DType CacheDType(ParseResult r) => DTypes[r.GetValue(DType)!];
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.CommandLine;
using HpcCore.Models.KvCache;
using HpcCore.Tensors;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>The KV-cache options `lm generate` and `lm eval` share: policy spec, positions and cache dtype.</summary>
internal sealed class LmKvOptions
{
    public Option<string> Policy { get; } = new("--kv-policy")
    {
        Description = $"KV policy: {KvPolicyRegistry.Names}; settings as name:key=value;key=value (e.g. snapkv:pool=max, recycled:trigger=query).",
        DefaultValueFactory = _ => "full",
    };

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

    public KvPositionMode? PositionMode(ParseResult r) => r.GetValue(Positions)?.ToLowerInvariant() switch
    {
        null => null,
        "original" => KvPositionMode.Original,
        "renumbered" => KvPositionMode.Renumbered,
        var v => throw new ArgumentException($"--kv-positions: '{v}' is not original or renumbered."),
    };

    public DType CacheDType(ParseResult r) => r.GetValue(DType)!.ToLowerInvariant() switch
    {
        "f32" => Tensors.DType.F32,
        "f16" => Tensors.DType.F16,
        "bf16" => Tensors.DType.BF16,
        var v => throw new ArgumentException($"--kv-dtype: '{v}' is not f32, f16 or bf16."),
    };
}

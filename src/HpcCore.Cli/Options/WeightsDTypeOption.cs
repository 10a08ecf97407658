// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Options;

using System.CommandLine;
using HpcCore.Tensors;

/// <summary>`--weights f32|bf16`: how a model's linear weights are stored (BF16: rounded at load, F32 arithmetic).</summary>
internal static class WeightsDTypeOption
{
    private static readonly Dictionary<string, DType> Types = new(StringComparer.Ordinal)
    {
        ["f32"] = DType.F32,
        ["bf16"] = DType.BF16,
    };

    public static Option<string> Create()
    {
        var option = new Option<string>("--weights")
        {
            Description = "Storage of the linear weights: f32, or bf16 (rounded to nearest even at load; half the bytes a " +
                          "decode step streams; embeddings and norms stay f32).",
            DefaultValueFactory = _ => "f32",
        };
        option.AcceptOnlyFromAmong([.. Types.Keys]);
        return option;
    }

    /// <summary>The dtype a parsed value names.</summary>
    public static DType Parse(string value) => Types[value];
}

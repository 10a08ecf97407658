// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Options;

using System.CommandLine;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Weights;

/// <summary>`--check-weights`: refuse a model whose tensors hold NaN or infinity, naming them (exit code 4).</summary>
internal static class CheckWeightsOption
{
    public static Option<bool> Create() => new("--check-weights")
    {
        Description = "Read every weight first and refuse the model if a tensor holds NaN or infinity, naming the tensors.",
    };

    /// <summary>Checks an LM path (llama2.c .bin, .safetensors or a Hugging Face folder) when the option is set.</summary>
    public static void CheckLm(bool enabled, string modelPath)
    {
        if (!enabled) return;
        if (modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            throw new Errors.CliUsageException("--check-weights reads safetensors and llama2.c checkpoints; GGUF files are not checked yet (drop the option)");
        var bad = WeightsCheck.FindNonFinite(modelPath);
        if (bad.Count > 0) throw new LmFormatException($"--check-weights: '{modelPath}' has non-finite weights: {WeightsCheck.Describe(bad)}.");
    }
}

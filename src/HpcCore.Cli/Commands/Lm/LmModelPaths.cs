// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using HpcCore.Cli.Errors;

namespace HpcCore.Cli.Commands.Lm;

/// <summary>The --model/--tokenizer pair every lm command takes: a GGUF model and a Hugging Face folder carry their tokenizer, others need one.</summary>
internal static class LmModelPaths
{
    /// <summary>Returns <paramref name="tokenizer"/>, or throws a usage error when it is missing for a model without one.</summary>
    public static string? Tokenizer(string model, string? tokenizer)
    {
        if (string.IsNullOrEmpty(tokenizer) && !model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(model))
            throw new CliUsageException($"--tokenizer is required for '{model}' (only a .gguf model or a Hugging Face folder carries its tokenizer)");
        return tokenizer;
    }
}

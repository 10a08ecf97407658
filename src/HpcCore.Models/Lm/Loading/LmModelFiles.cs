// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Diagnostics;
using HpcCore.Devices;
using Microsoft.Extensions.Logging;

/// <summary>A loaded decoder LM: shape, weights (owned by the caller), tokenizer and the model's generation defaults.</summary>
/// <param name="Config">The model's shape and numerics.</param>
/// <param name="Weights">The parameters (dispose them).</param>
/// <param name="Tokenizer">The text tokenizer.</param>
/// <param name="Generation">generation_config.json's defaults (<see cref="HfGenerationConfig.None"/> for other formats).</param>
public sealed record LmModel(LmConfig Config, LmWeights Weights, ITextTokenizer Tokenizer, HfGenerationConfig Generation)
{
    /// <summary>The ids that end generation: the tokenizer's BOS and EOS and every generation_config eos_token_id.</summary>
    public IReadOnlySet<int> StopIds => new HashSet<int>(Generation.EosIds.Append(Tokenizer.EosId).Append(Tokenizer.BosId).Where(id => id >= 0));
}

/// <summary>
/// Opens a model and its tokenizer by file type: llama2.c checkpoints (.bin), Hugging Face-named safetensors
/// (.safetensors, head count and context from its metadata) or a Hugging Face folder (<see cref="HfFolder"/>), with a tokenizer opened by
/// <see cref="Tokenization.TextTokenizers"/> (llama2.c .bin, SentencePiece .model, tokenizer.json, GPT-2 BPE files or <c>gpt2</c>),
/// or, for a folder with no tokenizer named, the folder's own; or a llama GGUF file (.gguf, <see cref="Gguf.GgufLlamaReader"/>)
/// whose embedded tokenizer is used when no tokenizer path is given.
/// </summary>
public static class LmModelFiles
{
    /// <summary>
    /// Loads <paramref name="modelPath"/> and <paramref name="tokenizerPath"/> onto <paramref name="backend"/>; the
    /// tokenizer path may be null or empty for a .gguf model (its embedded tokenizer).
    /// </summary>
    public static (LmConfig Config, LmWeights Weights, ITextTokenizer Tokenizer) Load(string modelPath, string? tokenizerPath, IBackend backend)
    {
        var m = Open(modelPath, tokenizerPath, backend);
        return (m.Config, m.Weights, m.Tokenizer);
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> onto <paramref name="backend"/> with <paramref name="tokenizerPath"/>, or, when it
    /// is null or empty, the tokenizer inside a Hugging Face folder or a GGUF file. <paramref name="logger"/> (optional)
    /// hears the load time, F16/BF16 conversions and tokenizer fallbacks.
    /// </summary>
    public static LmModel Open(string modelPath, string? tokenizerPath, IBackend backend, ILogger? logger = null) =>
        Open(modelPath, tokenizerPath, backend, logger, default);

    /// <summary>
    /// <see cref="Open(string, string?, IBackend, ILogger?)"/> with <paramref name="options"/> (BF16 linear weights).
    /// </summary>
    public static LmModel Open(string modelPath, string? tokenizerPath, IBackend backend, ILogger? logger, in LmLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (options.LinearWeights is not (Tensors.DType.F32 or Tensors.DType.BF16))
            throw new ArgumentException($"LmModelFiles.Load: LinearWeights is {options.LinearWeights}; expected F32 or BF16.", nameof(options));
        bool folder = Directory.Exists(modelPath);
        if (!folder && !File.Exists(modelPath)) throw new FileNotFoundException($"LmModelFiles.Load: model file '{modelPath}' does not exist.", modelPath);
        bool gguf = !folder && modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(tokenizerPath)) tokenizerPath = null;
        if (gguf && tokenizerPath is null)
        {
            var (ggufConfig, ggufWeights, ggufTokenizer) = Gguf.GgufLlamaReader.Load(modelPath, backend);
            return new LmModel(ggufConfig, Stored(ggufWeights, options), ggufTokenizer, HfGenerationConfig.None);
        }
        if (tokenizerPath is null && !folder)
            throw new ArgumentException($"LmModelFiles.Load: '{modelPath}' holds no tokenizer; give a tokenizer file (only a Hugging Face folder or a .gguf file carries its own).", nameof(tokenizerPath));
        if (tokenizerPath is not null && tokenizerPath != Tokenization.TextTokenizers.Gpt2 && !File.Exists(tokenizerPath))
            throw new FileNotFoundException($"LmModelFiles.Load: tokenizer file '{tokenizerPath}' does not exist.", tokenizerPath);
        LmConfig config;
        LmWeights weights;
        var generation = HfGenerationConfig.None;
        var clock = Stopwatch.StartNew();
        if (gguf)
        {
            (config, weights, _) = Gguf.GgufLlamaReader.Load(modelPath, backend);
        }
        else if (folder)
        {
            generation = HfFolder.Generation(modelPath);
            (config, weights) = HfFolder.Load(modelPath, backend, logger, options);
        }
        else if (modelPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = HpcCore.Models.Weights.SafetensorsReader.Open(modelPath);
            (config, weights) = HfSafetensors.Load(reader, backend);
        }
        else
        {
            (config, weights) = LlamaCCheckpoint.Load(modelPath, backend);
        }
        weights = Stored(weights, options);
        try
        {
            var tokenizer = tokenizerPath is null
                ? HfFolder.LoadTokenizer(modelPath, config.VocabSize, generation, logger)
                : Tokenization.TextTokenizers.Load(tokenizerPath, config.VocabSize);
            if (logger is not null && logger.IsEnabled(LogLevel.Information))
            {
                string architecture = config.Architecture.ToString(), tokenizerType = tokenizer.GetType().Name;
                long parameters = weights.ParameterCount;
                double seconds = clock.Elapsed.TotalSeconds;
                ModelLog.LmLoaded(logger, modelPath, architecture, config.Layers, parameters, config.VocabSize, config.MaxSeqLen, seconds);
                ModelLog.TokenizerLoaded(logger, tokenizerType, tokenizer.VocabSize);
            }
            return new LmModel(config, weights, tokenizer, generation);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    // The weights in the storage the options ask for (the F32 linear weights are released after narrowing).
    private static LmWeights Stored(LmWeights weights, in LmLoadOptions options)
    {
        if (options.LinearWeights != Tensors.DType.BF16) return weights;
        using (weights) return weights.ToBf16Linear();
    }
}

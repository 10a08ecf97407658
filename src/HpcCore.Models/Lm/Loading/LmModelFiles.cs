// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using HpcCore.Devices;

/// <summary>
/// Opens a model and its tokenizer by file type: llama2.c checkpoints (.bin), Hugging Face-named safetensors
/// (.safetensors, head count and context from its metadata) or a Hugging Face folder (<see cref="HfFolder"/>), with a tokenizer opened by
/// <see cref="Tokenization.TextTokenizers"/> (llama2.c .bin, SentencePiece .model, GPT-2 BPE files or <c>gpt2</c>),
/// or a llama GGUF file (.gguf, <see cref="Gguf.GgufLlamaReader"/>) whose embedded tokenizer is used when no tokenizer path is given.
/// </summary>
public static class LmModelFiles
{
    /// <summary>
    /// Loads <paramref name="modelPath"/> and <paramref name="tokenizerPath"/> onto <paramref name="backend"/>; the
    /// tokenizer path may be null or empty for a .gguf model (its embedded tokenizer).
    /// </summary>
    public static (LmConfig Config, LmWeights Weights, ITextTokenizer Tokenizer) Load(string modelPath, string? tokenizerPath, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        bool folder = Directory.Exists(modelPath);
        if (!folder && !File.Exists(modelPath)) throw new FileNotFoundException($"LmModelFiles.Load: model file '{modelPath}' does not exist.", modelPath);
        bool gguf = !folder && modelPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        if (gguf && string.IsNullOrEmpty(tokenizerPath))
            return Gguf.GgufLlamaReader.Load(modelPath, backend);
        if (string.IsNullOrEmpty(tokenizerPath))
            throw new ArgumentException($"LmModelFiles.Load: '{modelPath}' holds no tokenizer; give a tokenizer file.", nameof(tokenizerPath));
        if (tokenizerPath != Tokenization.TextTokenizers.Gpt2 && !File.Exists(tokenizerPath))
            throw new FileNotFoundException($"LmModelFiles.Load: tokenizer file '{tokenizerPath}' does not exist.", tokenizerPath);
        LmConfig config;
        LmWeights weights;
        if (gguf)
        {
            (config, weights, _) = Gguf.GgufLlamaReader.Load(modelPath, backend);
        }
        else if (folder)
        {
            (config, weights) = HfFolder.Load(modelPath, backend);
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
        try
        {
            return (config, weights, Tokenization.TextTokenizers.Load(tokenizerPath, config.VocabSize));
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }
}

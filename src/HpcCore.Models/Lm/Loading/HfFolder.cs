// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using HpcCore.Devices;
using HpcCore.Models.Lm.Tokenization;
using Microsoft.Extensions.Logging;

/// <summary>
/// A Hugging Face decoder folder: <c>config.json</c> (<see cref="HfModelConfig"/>: llama, mistral, qwen2, gpt2),
/// the weights as one <c>model.safetensors</c> or shards listed by <c>model.safetensors.index.json</c>
/// (<see cref="HfTensorFiles"/>; F16/BF16 converted to F32 at load), <c>generation_config.json</c>
/// (<see cref="HfGenerationConfig"/>) and the tokenizer: <c>tokenizer.json</c> when it is byte-level BPE
/// (<see cref="HfTokenizerJson"/>), else <c>tokenizer.model</c> (SentencePiece).
/// </summary>
public static class HfFolder
{
    /// <summary>Loads the model in <paramref name="folder"/> onto <paramref name="backend"/>.</summary>
    public static (LmConfig Config, LmWeights Weights) Load(string folder, IBackend backend) => Load(folder, backend, logger: null);

    /// <summary>Loads the model in <paramref name="folder"/>, telling <paramref name="logger"/> how many tensors were converted to F32.</summary>
    public static (LmConfig Config, LmWeights Weights) Load(string folder, IBackend backend, ILogger? logger) => Load(folder, backend, logger, default);

    /// <summary>
    /// <see cref="Load(string, IBackend, ILogger?)"/> storing the linear weights as <paramref name="options"/> asks:
    /// with BF16, a BF16 checkpoint's projections stay BF16 (never widened) and F32/F16 ones are rounded to BF16.
    /// </summary>
    public static (LmConfig Config, LmWeights Weights) Load(string folder, IBackend backend, ILogger? logger, in LmLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(backend);
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"HfFolder.Load: '{folder}' has no config.json.", configPath);
        // The config is read and checked whole before any weight file is opened, so a bad value never leaves weights behind.
        var hf = HfModelConfig.Read(configPath);
        using var files = HfTensorFiles.OpenFolder(folder);
        files.LinearWeights = options.LinearWeights;
        var weights = HfSafetensors.LoadWeights(files, hf, backend);
        if (logger is not null && files.ConvertedCount > 0) ModelLog.WeightsConverted(logger, files.ConvertedCount, files.FileCount);
        return (hf.Config, weights);
    }

    /// <summary>The folder's generation defaults (<see cref="HfGenerationConfig.None"/> without generation_config.json).</summary>
    public static HfGenerationConfig Generation(string folder) => HfGenerationConfig.Read(folder);

    /// <summary>
    /// The folder's tokenizer: tokenizer.json when it is byte-level BPE; tokenizer.model (SentencePiece) when there is
    /// no tokenizer.json or it is a SentencePiece conversion (byte_fallback). End tokens come from
    /// <paramref name="generation"/> where it gives them.
    /// </summary>
    public static ITextTokenizer LoadTokenizer(string folder, int modelVocabSize, HfGenerationConfig generation, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(generation);
        string json = Path.Combine(folder, "tokenizer.json"), model = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(json))
        {
            try
            {
                return TextTokenizers.Checked(HfTokenizerJson.Load(json, generation.EosIds), json, modelVocabSize);
            }
            catch (LmFormatException e) when (File.Exists(model))
            {
                // A SentencePiece model converted to tokenizer.json: its tokenizer.model is the original.
                if (logger is not null) ModelLog.TokenizerFallback(logger, folder, e.Message);
            }
        }
        if (File.Exists(model)) return TextTokenizers.Load(model, modelVocabSize);
        throw new FileNotFoundException($"HfFolder: '{folder}' has neither tokenizer.json nor tokenizer.model; pass --tokenizer.", json);
    }
}

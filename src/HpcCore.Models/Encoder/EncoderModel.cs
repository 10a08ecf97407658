// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.Weights;

/// <summary>
/// A sentence encoder loaded from a Hugging Face folder: <c>config.json</c> (BertModel), <c>model.safetensors</c>,
/// <c>vocab.txt</c> or <c>tokenizer.json</c> (WordPiece), optionally <c>tokenizer_config.json</c> (do_lower_case,
/// default true) and sentence-transformers' <c>1_Pooling/config.json</c> (mean or CLS; default mean). Every file is
/// untrusted and checked before anything is allocated from it. Dispose it.
/// </summary>
public sealed class EncoderModel : IDisposable
{
    private EncoderModel(string name, EncoderWeights weights, EncoderTokenizer tokenizer)
    {
        Name = name;
        Weights = weights;
        Tokenizer = tokenizer;
    }

    /// <summary>The folder's name.</summary>
    public string Name { get; }

    /// <summary>The weights (and config).</summary>
    public EncoderWeights Weights { get; }

    /// <summary>WordPiece tokenizer with [CLS]/[SEP] framing.</summary>
    public EncoderTokenizer Tokenizer { get; }

    /// <summary>Loads the folder onto <paramref name="backend"/>.</summary>
    public static EncoderModel Load(string folder, IBackend backend)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(backend);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"EncoderModel.Load: no folder {folder}.");
        var pooling = ReadPooling(Path.Combine(folder, "1_Pooling", "config.json"));
        string configPath = Required(folder, "config.json");
        var config = EncoderConfig.FromJson(File.ReadAllBytes(configPath), pooling, configPath);
        bool lower = ReadLowerCase(Path.Combine(folder, "tokenizer_config.json"));
        string vocab = Path.Combine(folder, "vocab.txt"), tokenizerJson = Path.Combine(folder, "tokenizer.json");
        var tokenizer = File.Exists(vocab) ? EncoderTokenizer.FromVocab(vocab, lower)
            : File.Exists(tokenizerJson) ? EncoderTokenizer.FromTokenizerJson(tokenizerJson, lower)
            : throw new EncoderFormatException($"EncoderModel.Load: {folder} has neither vocab.txt nor tokenizer.json.");
        if (tokenizer.VocabSize > config.VocabSize)
            throw new EncoderFormatException($"EncoderModel.Load: the vocabulary has {tokenizer.VocabSize} pieces; config.json's vocab_size is {config.VocabSize}.");
        using var reader = SafetensorsReader.Open(Required(folder, "model.safetensors"));
        var weights = EncoderWeightsLoader.Load(reader, config, backend);
        return new EncoderModel(new DirectoryInfo(folder).Name, weights, tokenizer);
    }

    /// <summary>sentence-transformers' pooling config: exactly one of mean and CLS (others are refused).</summary>
    internal static EncoderPooling ReadPooling(string path)
    {
        if (!File.Exists(path)) return EncoderPooling.Mean;
        using var doc = EncoderTokenizer.ParseJson(File.ReadAllBytes(path), path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new EncoderFormatException($"{path}: the top level is not a JSON object.");
        bool Flag(string key) => root.TryGetProperty(key, out var v) && (v.ValueKind == JsonValueKind.True ||
            (v.ValueKind != JsonValueKind.False ? throw new EncoderFormatException($"{path}: {key} is not true or false.") : false));
        bool cls = Flag("pooling_mode_cls_token"), mean = Flag("pooling_mode_mean_tokens");
        foreach (var other in new[] { "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken" })
            if (Flag(other)) throw new EncoderFormatException($"{path}: {other} is not supported (mean or CLS pooling).");
        return (cls, mean) switch
        {
            (true, false) => EncoderPooling.Cls,
            (false, true) => EncoderPooling.Mean,
            _ => throw new EncoderFormatException($"{path}: exactly one of pooling_mode_cls_token and pooling_mode_mean_tokens must be true."),
        };
    }

    private static bool ReadLowerCase(string path)
    {
        if (!File.Exists(path)) return true;
        using var doc = EncoderTokenizer.ParseJson(File.ReadAllBytes(path), path);
        var root = doc.RootElement;
        return root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("do_lower_case", out var v) || v.ValueKind != JsonValueKind.False;
    }

    private static string Required(string folder, string file)
    {
        string path = Path.Combine(folder, file);
        return File.Exists(path) ? path : throw new EncoderFormatException($"EncoderModel.Load: {folder} has no {file}.");
    }

    /// <summary>Releases the weights.</summary>
    public void Dispose() => Weights.Dispose();
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using HpcCore.Models.Weights;
using HpcCore.Tensors;

/// <summary>Writes a Hugging Face sentence-transformers folder that <see cref="EncoderModel.Load"/> (and Hugging Face) reads.</summary>
public static class EncoderFolder
{
    /// <summary>
    /// Writes config.json, model.safetensors (<paramref name="tensors"/>, HF BertModel names, [out, in] linear weights),
    /// vocab.txt, tokenizer_config.json and 1_Pooling/config.json into <paramref name="folder"/> (created if needed).
    /// </summary>
    public static void Write(string folder, EncoderConfig config, IEnumerable<KeyValuePair<string, Tensor>> tensors, string vocabText, bool lowerCase)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(vocabText);
        config.Validate();
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
        SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(folder, "vocab.txt"), vocabText);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            $"{{\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"do_lower_case\": {(lowerCase ? "true" : "false")}\n}}\n");
        bool cls = config.Pooling == EncoderPooling.Cls;
        File.WriteAllText(Path.Combine(folder, "1_Pooling", "config.json"),
            $"{{\n  \"word_embedding_dimension\": {config.Hidden},\n  \"pooling_mode_cls_token\": {(cls ? "true" : "false")},\n" +
            $"  \"pooling_mode_mean_tokens\": {(cls ? "false" : "true")}\n}}\n");
    }
}

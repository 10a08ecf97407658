// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Tokenization;

using System.Text.Json;
using HpcCore.Models.Lm.Loading;
using Microsoft.ML.Tokenizers;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> with a byte-level BPE model (GPT-2, Llama 3, Qwen2, Mistral-Nemo...), built
/// as a Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/> (<see cref="BpeOptions.ByteLevel"/>): the vocabulary,
/// the merges (<c>"a b"</c> strings or <c>["a", "b"]</c> pairs), the pre-tokenizer's split regex (GPT-2's, for a
/// plain <c>ByteLevel</c> pre-tokenizer with <c>use_regex</c>, or the <c>Split</c> pattern of a
/// <c>Sequence[Split, ByteLevel]</c>), an optional NFC normalizer, and the added tokens as special tokens.
/// The beginning-of-sequence token is the one the <c>TemplateProcessing</c> post-processor puts first (Llama 3's
/// &lt;|begin_of_text|&gt;). Anything else (SentencePiece-style BPE with <c>byte_fallback</c>, as in Llama 2 and
/// Mistral 7B, WordPiece, Unigram, other normalizers) is refused with a message; for SentencePiece models the
/// folder's tokenizer.model loads instead. The file is read into a <see cref="ByteLevelBpeDefinition"/>, which builds
/// the tokenizer (and which a GGUF file stores, so that both build it the same way).
/// </summary>
public static class HfTokenizerJson
{
    // GPT-2's pre-tokenizer pattern (encoder.py), which the ByteLevel pre-tokenizer applies when use_regex is true.
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Loads <paramref name="path"/>; <paramref name="eosIds"/> (from generation_config.json) override the end token when given.</summary>
    public static MlTextTokenizer Load(string path, IReadOnlyList<int>? eosIds = null)
    {
        var j = HfJson.Open(path, 256 << 20, out var document);
        using var _ = document;
        var root = j.Root;
        var model = Object(root, "model", path);
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(absent)";
        if (type != "BPE") throw Refuse(path, $"model.type is \"{type}\"; only BPE tokenizer.json files load here");
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
            throw Refuse(path, "it is a SentencePiece-style BPE (byte_fallback); load the folder's tokenizer.model instead");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in Object(model, "vocab", path).EnumerateObject())
            vocab[entry.Name] = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int id) && id >= 0 && id < 1 << 24
                ? id : throw Refuse(path, $"model.vocab maps {Echo(entry.Name)} to {entry.Value.GetRawText()}, not a token id");
        var merges = Merges(model, path);
        var added = AddedTokens(root, path);
        int eosFallback = added.FirstOrDefault(a => a.Content is "<|endoftext|>" or "<|end_of_text|>" or "</s>" or "<|im_end|>")?.Id ?? -1;
        var definition = new ByteLevelBpeDefinition(vocab, merges, PreTokenizerPattern(root, path), Normalizer(root, path), added,
            BosFromTemplate(root, added), eosIds is { Count: > 0 } ? eosIds[0] : eosFallback);
        return definition.Build(why => Refuse(path, why));
    }

    private static List<string> Merges(JsonElement model, string path)
    {
        if (!model.TryGetProperty("merges", out var list) || list.ValueKind != JsonValueKind.Array) throw Refuse(path, "model.merges is missing or not a list");
        var merges = new List<string>(list.GetArrayLength());
        foreach (var m in list.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String && m.GetString()!.Split(' ') is [{ Length: > 0 }, { Length: > 0 }])
                merges.Add(m.GetString()!);
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String
                     && !m[0].GetString()!.Contains(' ', StringComparison.Ordinal) && !m[1].GetString()!.Contains(' ', StringComparison.Ordinal))
                merges.Add(m[0].GetString() + " " + m[1].GetString());
            else
                throw Refuse(path, $"model.merges has {Echo(m.GetRawText())}, not a pair of byte-level tokens");
        }
        return merges;
    }

    private static List<BpeAddedToken> AddedTokens(JsonElement root, string path)
    {
        var added = new List<BpeAddedToken>();
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null) return added;
        if (list.ValueKind != JsonValueKind.Array) throw Refuse(path, "added_tokens is not a list");
        foreach (var a in list.EnumerateArray())
        {
            if (a.ValueKind != JsonValueKind.Object || !a.TryGetProperty("id", out var id) || !id.TryGetInt32(out int n) || n < 0 || n >= 1 << 24
                || !a.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw Refuse(path, $"added_tokens has {Echo(a.GetRawText())}, without an id and a content");
            bool special = a.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            added.Add(new BpeAddedToken(n, content.GetString()!, special));
        }
        return added;
    }

    private static string PreTokenizerPattern(JsonElement root, string path)
    {
        var pre = root.TryGetProperty("pre_tokenizer", out var p) ? p : default;
        string Type(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(none)";
        void CheckByteLevel(JsonElement e)
        {
            if (e.TryGetProperty("add_prefix_space", out var a) && a.ValueKind == JsonValueKind.True)
                throw Refuse(path, "its ByteLevel pre-tokenizer has add_prefix_space: true, which is not supported");
        }
        if (Type(pre) == "ByteLevel")
        {
            CheckByteLevel(pre);
            if (pre.TryGetProperty("use_regex", out var r) && r.ValueKind == JsonValueKind.False) throw Refuse(path, "a ByteLevel pre-tokenizer without its regex is not supported");
            return Gpt2Pattern;
        }
        if (Type(pre) == "Sequence" && pre.TryGetProperty("pretokenizers", out var seq) && seq.ValueKind == JsonValueKind.Array && seq.GetArrayLength() == 2
            && Type(seq[0]) == "Split" && Type(seq[1]) == "ByteLevel")
        {
            var split = seq[0];
            CheckByteLevel(seq[1]);
            if (seq[1].TryGetProperty("use_regex", out var r) && r.ValueKind == JsonValueKind.True)
                throw Refuse(path, "a Split pre-tokenizer followed by a ByteLevel one that splits again is not supported");
            bool isolated = split.TryGetProperty("behavior", out var b) && b.ValueKind == JsonValueKind.String && b.GetString() == "Isolated";
            bool inverted = split.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True;
            if (!isolated || inverted) throw Refuse(path, "only a Split pre-tokenizer with behavior Isolated and invert false is supported");
            if (split.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
                && pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
                return regex.GetString()!;
            throw Refuse(path, "its Split pre-tokenizer has no Regex pattern");
        }
        throw Refuse(path, $"pre_tokenizer type {Type(pre)} is not supported (ByteLevel, or Sequence of Split and ByteLevel)");
    }

    // True for an NFC normalizer, false for none.
    private static bool Normalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        if (n.ValueKind == JsonValueKind.Object && n.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "NFC")
            return true;
        throw Refuse(path, $"normalizer {Echo(n.GetRawText())} is not supported (none or NFC)");
    }

    // TemplateProcessing's single template: a SpecialToken first (Llama 3's <|begin_of_text|>) is the BOS added to every text.
    private static int BosFromTemplate(JsonElement root, List<BpeAddedToken> added)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object) return -1;
        var processor = post;
        if (post.TryGetProperty("type", out var pt) && pt.GetString() == "Sequence" && post.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array)
            processor = list.EnumerateArray().FirstOrDefault(p => p.TryGetProperty("type", out var x) && x.GetString() == "TemplateProcessing");
        if (processor.ValueKind != JsonValueKind.Object || !processor.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array
            || single.GetArrayLength() == 0 || !single[0].TryGetProperty("SpecialToken", out var first) || !first.TryGetProperty("id", out var name))
            return -1;
        return added.FirstOrDefault(a => a.Content == name.GetString())?.Id ?? -1;
    }

    private static JsonElement Object(JsonElement parent, string key, string path) =>
        parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw Refuse(path, $"{key} is missing or not an object");

    private static LmFormatException Refuse(string path, string why) => new($"HfTokenizerJson: '{path}' cannot be loaded: {why}.");

    private static string Echo(string s) => ByteLevelBpeDefinition.Echo(s);
}

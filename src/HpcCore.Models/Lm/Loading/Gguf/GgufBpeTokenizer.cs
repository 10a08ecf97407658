// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading.Gguf;

using HpcCore.Models.Lm.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer in GGUF, as llama.cpp's converter writes Llama 3's: <c>tokenizer.ggml.model</c> "gpt2",
/// <c>tokenizer.ggml.pre</c> naming the pre-tokenizer (its split regex lives in llama.cpp, not in the file), the tokens
/// in id order in GPT-2's byte-to-character spelling, their types (normal, control for special added tokens,
/// user-defined for other added tokens, unused for padding ids "[PADn]"), the merges as "left right" strings in rank
/// order, and the begin/end ids. Read back into a <see cref="ByteLevelBpeDefinition"/>, so the tokenizer is built
/// exactly as one from tokenizer.json is.
/// </summary>
internal static class GgufBpeTokenizer
{
    /// <summary>Llama 3's pre-tokenizer regex, as its tokenizer.json's Split pre-tokenizer spells it.</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The name written for <see cref="Llama3Pattern"/> (what llama.cpp's converter writes for Llama 3).</summary>
    public const string Llama3Name = "llama-bpe";

    // llama.cpp's names for the Llama 3 pre-tokenizer (LLAMA_VOCAB_PRE_TYPE_LLAMA3 with the same regex). Other names
    // select other regexes or extra rules (digit grouping, lower-casing...) that are not reproduced here, so they are refused.
    private static readonly HashSet<string> Llama3Names = new(StringComparer.Ordinal) { Llama3Name, "llama3", "llama-v3" };

    /// <summary>Adds the tokenizer's keys for a model of <paramref name="vocabSize"/> ids (ids no token holds become unused "[PADn]" tokens).</summary>
    public static void Write(GgufWriter w, ByteLevelBpeDefinition bpe, int vocabSize)
    {
        if (bpe.PreTokenizerPattern != Llama3Pattern)
            throw new ArgumentException($"GgufLlamaWriter: the tokenizer's pre-tokenizer regex is not Llama 3's; GGUF names pre-tokenizers and only '{Llama3Name}' is written here.", nameof(bpe));
        if (bpe.Nfc)
            throw new ArgumentException("GgufLlamaWriter: the tokenizer NFC-normalises its input, which llama.cpp's llama-bpe pre-tokenizer does not.", nameof(bpe));
        var text = new string?[vocabSize];
        var type = new int[vocabSize];
        foreach (var (token, id) in bpe.Vocab)
        {
            if ((uint)id >= (uint)vocabSize) throw new ArgumentException($"GgufLlamaWriter: token {id} '{token}' is outside the model's {vocabSize} ids.", nameof(bpe));
            if (text[id] is not null) throw new ArgumentException($"GgufLlamaWriter: id {id} is both '{text[id]}' and '{token}'.", nameof(bpe));
            text[id] = token;
            type[id] = GgufLlamaKeys.TypeNormal;
        }
        foreach (var a in bpe.AddedTokens)
        {
            if ((uint)a.Id >= (uint)vocabSize) throw new ArgumentException($"GgufLlamaWriter: added token {a.Id} '{a.Content}' is outside the model's {vocabSize} ids.", nameof(bpe));
            // A plain added token that is its own vocabulary entry stays a normal token (the BPE finds it either way).
            if (text[a.Id] == a.Content && !a.Special) continue;
            if (text[a.Id] is not null)
                throw new ArgumentException($"GgufLlamaWriter: id {a.Id} is both the token '{text[a.Id]}' and the added token '{a.Content}'; GGUF holds one text per id.", nameof(bpe));
            text[a.Id] = a.Content;
            type[a.Id] = a.Special ? GgufLlamaKeys.TypeControl : GgufLlamaKeys.TypeUserDefined;
        }
        var tokens = new GgufValue[vocabSize];
        var types = new GgufValue[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            // Ids that no token holds (a model with more embedding rows than tokens) are padding, as llama.cpp's converter writes them.
            tokens[i] = GgufValue.Of(text[i] ?? $"[PAD{i}]");
            types[i] = GgufValue.Scalar(GgufValueType.Int32, (long)(text[i] is null ? GgufLlamaKeys.TypeUnused : type[i]));
        }
        w.Add(GgufLlamaKeys.TokenizerModel, GgufValue.Of("gpt2"))
            .Add(GgufLlamaKeys.PreTokenizer, GgufValue.Of(Llama3Name))
            .Add(GgufLlamaKeys.Tokens, GgufValue.Array(GgufValueType.String, tokens))
            .Add(GgufLlamaKeys.TokenType, GgufValue.Array(GgufValueType.Int32, types))
            .Add(GgufLlamaKeys.Merges, GgufValue.Array(GgufValueType.String, bpe.Merges.Select(GgufValue.Of).ToArray()));
        if (bpe.BosId >= 0) w.Add(GgufLlamaKeys.BosId, GgufValue.Of((uint)bpe.BosId));
        if (bpe.EosId >= 0) w.Add(GgufLlamaKeys.EosId, GgufValue.Of((uint)bpe.EosId));
        w.Add(GgufLlamaKeys.AddBos, GgufValue.Of(bpe.BosId >= 0)).Add(GgufLlamaKeys.AddEos, GgufValue.Of(false));
    }

    /// <summary>Reads the tokenizer of a <c>tokenizer.ggml.model</c> "gpt2" file whose model has <paramref name="vocabSize"/> ids.</summary>
    public static MlTextTokenizer Read(GgufFile file, int vocabSize)
    {
        string pre = GgufLlamaReader.String(file, GgufLlamaKeys.PreTokenizer);
        if (!Llama3Names.Contains(pre))
            throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.PreTokenizer} is '{ByteLevelBpeDefinition.Echo(pre)}'; only Llama 3's ({string.Join(", ", Llama3Names)}) is supported.");
        var tokens = GgufLlamaReader.Array(file, GgufLlamaKeys.Tokens, GgufValueType.String, vocabSize, required: true)!;
        var types = file.Get(GgufLlamaKeys.TokenType) is null ? null : GgufLlamaReader.Array(file, GgufLlamaKeys.TokenType, null, vocabSize, required: true);
        var vocab = new Dictionary<string, int>(vocabSize, StringComparer.Ordinal);
        var added = new List<BpeAddedToken>();
        for (int i = 0; i < vocabSize; i++)
        {
            string text = (string)tokens[i].Value;
            long type = types?[i].AsInt64() ?? GgufLlamaKeys.TypeNormal;
            switch (type)
            {
                case GgufLlamaKeys.TypeNormal:
                    if (!vocab.TryAdd(text, i))
                        throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.Tokens} holds '{ByteLevelBpeDefinition.Echo(text)}' at ids {vocab[text]} and {i}.");
                    break;
                case GgufLlamaKeys.TypeControl or GgufLlamaKeys.TypeUnknown:
                    added.Add(new BpeAddedToken(i, text, Special: true));
                    break;
                case GgufLlamaKeys.TypeUserDefined:
                    added.Add(new BpeAddedToken(i, text, Special: false));
                    break;
                case GgufLlamaKeys.TypeUnused:
                    break;
                default:
                    throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.TokenType}[{i}] = {type} is not a byte-level BPE token type (normal 1, unknown 2, control 3, user-defined 4, unused 5).");
            }
        }
        var mergeValue = GgufLlamaReader.Required(file, GgufLlamaKeys.Merges);
        if (mergeValue.Type != GgufValueType.Array || mergeValue.ElementType != GgufValueType.String)
            throw new LmFormatException($"GGUF {file.Name}: '{GgufLlamaKeys.Merges}' is {mergeValue}; expected an array of strings.");
        var merges = new List<string>(mergeValue.ArrayItems.Count);
        foreach (var m in mergeValue.ArrayItems)
        {
            string merge = (string)m.Value;
            int space = merge.IndexOf(' ', 1);
            if (space < 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
                throw new LmFormatException($"GGUF {file.Name}: {GgufLlamaKeys.Merges}[{merges.Count}] = '{ByteLevelBpeDefinition.Echo(merge)}' is not 'left right'.");
            merges.Add(merge);
        }
        // llama.cpp adds the begin token for Llama 3's pre-tokenizer unless the file says otherwise.
        bool addBos = file.Get(GgufLlamaKeys.AddBos) is not { } flag || (flag.Value as bool? ?? throw new LmFormatException(
            $"GGUF {file.Name}: '{GgufLlamaKeys.AddBos}' is {flag}, not a bool."));
        int bos = addBos ? GgufLlamaReader.TokenId(file, GgufLlamaKeys.BosId, -1, vocabSize) : -1;
        int eos = GgufLlamaReader.TokenId(file, GgufLlamaKeys.EosId, -1, vocabSize);
        var definition = new ByteLevelBpeDefinition(vocab, merges, Llama3Pattern, nfc: false, added, bos, eos);
        var tokenizer = definition.Build(why => new LmFormatException($"GGUF {file.Name}: the {GgufLlamaKeys.TokenizerModel} 'gpt2' vocabulary ({GgufLlamaKeys.Tokens}, {GgufLlamaKeys.Merges}) cannot be built: {why}."));
        tokenizer.PadTo(vocabSize);
        return tokenizer;
    }
}

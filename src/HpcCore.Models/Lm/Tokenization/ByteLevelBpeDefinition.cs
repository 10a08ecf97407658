// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Tokenization;

using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

/// <summary>One added token of a byte-level BPE: its id, its text, and whether it is special (a control token that decodes to nothing).</summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">The text that the token stands for (matched whole before the BPE runs).</param>
/// <param name="Special">True for control tokens (&lt;|begin_of_text|&gt;...), which print nothing.</param>
public sealed record BpeAddedToken(int Id, string Content, bool Special);

/// <summary>
/// Everything that defines a byte-level BPE tokenizer (GPT-2's scheme, Llama 3's, Qwen2's): the vocabulary in GPT-2's
/// byte-to-character spelling, the merges in rank order, the pre-tokenizer's split regex, an optional NFC normalizer,
/// the added tokens, and the begin and end ids. A Hugging Face <c>tokenizer.json</c> is read into one
/// (<see cref="HfTokenizerJson"/>) and so is a GGUF file's <c>gpt2</c> vocabulary (<c>GgufLlamaReader</c>); both build
/// the same Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/> from it, and <c>GgufLlamaWriter</c> writes it back, so a
/// tokenizer survives the trip through GGUF by construction rather than by a second implementation.
/// </summary>
public sealed class ByteLevelBpeDefinition
{
    /// <summary>Creates the definition (nothing is checked until <see cref="Build"/>).</summary>
    public ByteLevelBpeDefinition(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<string> merges, string preTokenizerPattern, bool nfc,
        IReadOnlyList<BpeAddedToken> addedTokens, int bosId, int eosId)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(preTokenizerPattern);
        ArgumentNullException.ThrowIfNull(addedTokens);
        Vocab = vocab;
        Merges = merges;
        PreTokenizerPattern = preTokenizerPattern;
        Nfc = nfc;
        AddedTokens = addedTokens;
        BosId = bosId;
        EosId = eosId;
    }

    /// <summary>Token text (GPT-2's byte-to-character spelling, "Ġ" for a space) to id.</summary>
    public IReadOnlyDictionary<string, int> Vocab { get; }

    /// <summary>The merges in rank order, each as "left right".</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>The regex that splits text into pre-tokens before the BPE (GPT-2's, or a Split pre-tokenizer's pattern).</summary>
    public string PreTokenizerPattern { get; }

    /// <summary>Whether text is NFC-normalised first (Qwen2).</summary>
    public bool Nfc { get; }

    /// <summary>Tokens matched whole before the BPE, with their ids.</summary>
    public IReadOnlyList<BpeAddedToken> AddedTokens { get; }

    /// <summary>The id put before every text, or -1.</summary>
    public int BosId { get; }

    /// <summary>The id that ends generation, or -1.</summary>
    public int EosId { get; }

    /// <summary>
    /// The tokenizer: a Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/> with <see cref="BpeOptions.ByteLevel"/> for
    /// encoding and a per-id byte table for decoding (vocabulary entries through GPT-2's byte table, special tokens as
    /// nothing, other added tokens as their UTF-8 text). Problems are reported through <paramref name="refuse"/>,
    /// which names the source.
    /// </summary>
    public MlTextTokenizer Build(Func<string, Exception> refuse)
    {
        ArgumentNullException.ThrowIfNull(refuse);
        const int MaxId = 1 << 24;
        foreach (var (text, id) in Vocab)
            if ((uint)id >= MaxId) throw refuse($"vocabulary entry {Echo(text)} has id {id}, outside 0..{MaxId - 1}");
        foreach (var a in AddedTokens)
            if ((uint)a.Id >= MaxId) throw refuse($"added token {Echo(a.Content)} has id {a.Id}, outside 0..{MaxId - 1}");
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var a in AddedTokens)
        {
            if (Vocab.ContainsKey(a.Content) && !a.Special) continue;
            if (!special.TryAdd(a.Content, a.Id)) throw refuse($"added token {Echo(a.Content)} appears twice");
        }
        // Microsoft.ML.Tokenizers throws InvalidOperationException for a merge outside the vocabulary; Hugging Face
        // refuses such files too (MergeTokenOutOfVocabulary), so they are refused here by name.
        for (int i = 0; i < Merges.Count; i++)
        {
            string merge = Merges[i];
            int space = merge.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || space == merge.Length - 1 || !Vocab.ContainsKey(merge[..space]) || !Vocab.ContainsKey(merge[(space + 1)..])
                || !Vocab.ContainsKey(string.Concat(merge.AsSpan(0, space), merge.AsSpan(space + 1))))
                throw refuse($"merge {i} '{Echo(merge)}' is not two vocabulary tokens whose join is one");
        }
        Regex pattern;
        try
        {
            pattern = new Regex(PreTokenizerPattern, RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw refuse($"the pre-tokenizer regex is invalid: {e.Message}");
        }
        var options = new BpeOptions(Vocab)
        {
            Merges = Merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(pattern, special),
            Normalizer = Nfc ? new NfcNormalizer() : null,
            SpecialTokens = special,
        };
        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(options);
        }
        catch (ArgumentException e)
        {
            throw refuse(e.Message);
        }
        int size = Math.Max(Vocab.Count == 0 ? 0 : Vocab.Values.Max(), AddedTokens.Count == 0 ? 0 : AddedTokens.Max(a => a.Id)) + 1;
        var pieces = new byte[size][];
        var bytesOf = TextTokenizers.ByteLevelAlphabet();
        foreach (var (text, id) in Vocab)
        {
            var piece = new byte[text.Length];
            for (int i = 0; i < text.Length; i++)
                piece[i] = bytesOf.TryGetValue(text[i], out byte b) ? b : throw refuse($"vocabulary entry {Echo(text)} is not byte-level (character U+{(int)text[i]:X4})");
            pieces[id] = piece;
        }
        // Special tokens (control tokens) print nothing; other added tokens print their text.
        foreach (var a in AddedTokens) pieces[a.Id] = a.Special ? [] : Encoding.UTF8.GetBytes(a.Content);
        for (int i = 0; i < pieces.Length; i++) pieces[i] ??= [];
        return new MlTextTokenizer(bpe, pieces, BosId, EosId, stripSpaceAfterBos: false, this);
    }

    internal static string Echo(string s) => s.Length > 40 ? s[..40] + "..." : s;

    /// <summary>Unicode NFC, the normalizer Qwen2's tokenizer.json names.</summary>
    private sealed class NfcNormalizer : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);

        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

/// <summary>
/// BERT WordPiece tokenization (Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>: basic tokenization, optional
/// lower-casing and accent stripping, greedy longest-match WordPiece) with BERT's input framing: [CLS] text [SEP],
/// truncated to a token budget by dropping the text's tail (Hugging Face's truncation=True, sentence-transformers'
/// max_seq_length).
/// </summary>
public sealed class EncoderTokenizer
{
    private readonly BertTokenizer _inner;

    private EncoderTokenizer(BertTokenizer inner) => _inner = inner;

    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; private init; }

    /// <summary>The [CLS] id.</summary>
    public int ClsId => _inner.ClassificationTokenId;

    /// <summary>The [SEP] id.</summary>
    public int SepId => _inner.SeparatorTokenId;

    /// <summary>Ids of [CLS] + the text's first pieces + [SEP], at most <paramref name="maxTokens"/> (>= 2) in all.</summary>
    public int[] Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        var pieces = _inner.EncodeToIds(text, addSpecialTokens: false);
        int n = Math.Min(pieces.Count, maxTokens - 2);
        var ids = new int[n + 2];
        ids[0] = ClsId;
        for (int i = 0; i < n; i++) ids[i + 1] = pieces[i];
        ids[n + 1] = SepId;
        return ids;
    }

    /// <summary>A tokenizer from a <c>vocab.txt</c> (one piece per line, the line number is the id).</summary>
    public static EncoderTokenizer FromVocab(string path, bool lowerCase)
    {
        return Create(File.ReadAllBytes(path), lowerCase, path);
    }

    /// <summary>
    /// A tokenizer from a Hugging Face <c>tokenizer.json</c> whose model is WordPiece (untrusted: the vocabulary must map
    /// distinct pieces to the ids 0..n-1 exactly once).
    /// </summary>
    public static EncoderTokenizer FromTokenizerJson(string path, bool lowerCase)
    {
        using var doc = ParseJson(File.ReadAllBytes(path), path);
        var root = doc.RootElement;
        // Every name and string already decoded once (ParseJson), so lookups and reads here cannot fail on bad Unicode.
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object ||
            !model.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "WordPiece" ||
            !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new EncoderFormatException($"EncoderTokenizer: {path} has no WordPiece model with a vocab object.");
        return FromVocabObject(vocab, lowerCase, path);
    }

    private static EncoderTokenizer FromVocabObject(JsonElement vocab, bool lowerCase, string path)
    {
        int count = 0;
        foreach (var _ in vocab.EnumerateObject()) count++;
        var pieces = new string?[count];
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || (uint)id >= (uint)count || pieces[id] is not null)
                throw new EncoderFormatException($"EncoderTokenizer: {path}: piece '{entry.Name}' has id {entry.Value.GetRawText()}; ids must be 0..{count - 1}, each once.");
            if (entry.Name.Contains('\n', StringComparison.Ordinal))
                throw new EncoderFormatException($"EncoderTokenizer: {path}: piece {id} contains a line break.");
            pieces[id] = entry.Name;
        }
        return Create(Encoding.UTF8.GetBytes(string.Join('\n', pieces) + "\n"), lowerCase, path);
    }

    internal static JsonDocument ParseJson(byte[] bytes, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new EncoderFormatException($"{source}: not valid JSON ({e.Message}).", e);
        }
        try
        {
            UntrustedJson.ReadEveryString(doc.RootElement);
            return doc;
        }
        catch (InvalidOperationException e)
        {
            doc.Dispose();
            throw new EncoderFormatException($"{source}: a name or string is not valid Unicode ({e.Message}).", e);
        }
    }

    private static EncoderTokenizer Create(byte[] vocab, bool lowerCase, string source)
    {
        // One piece per line; a final line break ends the last piece rather than starting an empty one.
        int pieces = vocab.AsSpan().Count((byte)'\n') + (vocab.Length > 0 && vocab[^1] != (byte)'\n' ? 1 : 0);
        BertTokenizer inner;
        try
        {
            using var stream = new MemoryStream(vocab, writable: false);
            inner = BertTokenizer.Create(stream, new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase });
        }
        catch (ArgumentException e)
        {
            throw new EncoderFormatException($"EncoderTokenizer: {source} is not a usable WordPiece vocabulary ({e.Message}).", e);
        }
        return new EncoderTokenizer(inner) { VocabSize = pieces };
    }
}

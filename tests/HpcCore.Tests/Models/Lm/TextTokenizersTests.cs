// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Tokenization;
using Microsoft.ML.Tokenizers;
using Xunit;

/// <summary>Tokenizers through Microsoft.ML.Tokenizers: GPT-2's published ids, byte-exact round trips, file-type dispatch.</summary>
public sealed class TextTokenizersTests
{
    private static string Decode(ITextTokenizer tok, int[] ids)
    {
        var bytes = new List<byte>();
        var buf = new byte[tok.MaxTokenBytes];
        int previous = -2;
        foreach (int id in ids)
        {
            int n = tok.DecodeBytes(previous, id, buf);
            bytes.AddRange(buf.AsSpan(0, n));
            previous = id;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    [Fact]
    public void Gpt2_GivesThePublishedIds()
    {
        var tok = TextTokenizers.Load(TextTokenizers.Gpt2, 50257);
        // GPT-2's ids for "Hello world" as published with the model (Hugging Face GPT2Tokenizer docs: [15496, 995]).
        Assert.Equal([15496, 995], tok.Encode("Hello world", addBos: false));
        Assert.Equal(50257, tok.VocabSize);
        Assert.Equal(50256, tok.EosId);
        Assert.Equal(-1, tok.BosId);
    }

    [Theory]
    [InlineData("Hello world")]
    [InlineData("  Leading spaces, tabs\tand\nnew lines.")]
    [InlineData("Caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \U0001F600 emoji split across tokens")]
    public void Gpt2_RoundTripsByteForByte(string text)
    {
        var tok = TextTokenizers.Load(TextTokenizers.Gpt2, 50257);
        int[] ids = tok.Encode(text, addBos: false);
        Assert.Equal(text, Decode(tok, ids));
    }

    [Fact]
    public void ByteLevelBpeFiles_EncodeWithMerges_AndDecodeBytes()
    {
        // A toy GPT-2-format vocabulary: the 256 byte characters, then merges h+e, he+l, hel+l, hell+o, and
        // the space character (U+0120) + w.
        var alphabet = TextTokenizers.ByteLevelAlphabet();
        var byId = alphabet.OrderBy(p => p.Value).Select(p => p.Key.ToString()).ToList();
        string[] merges = ["h e", "he l", "hel l", "hell o", "\u0120 w"];
        foreach (var m in merges) byId.Add(m.Replace(" ", ""));
        byId.Add("<|endoftext|>");
        var dir = Directory.CreateTempSubdirectory("hpccore-bpe");
        try
        {
            string vocab = Path.Combine(dir.FullName, "vocab.json");
            File.WriteAllText(vocab, "{" + string.Join(",", byId.Select((t, i) => $"{System.Text.Json.JsonSerializer.Serialize(t)}:{i}")) + "}");
            File.WriteAllText(Path.Combine(dir.FullName, "merges.txt"), "#version: 0.2\n" + string.Join("\n", merges) + "\n");
            var tok = TextTokenizers.Load(vocab, 300);
            Assert.IsType<MlTextTokenizer>(tok);
            Assert.Equal(byId.Count - 1, tok.EosId);
            int[] ids = tok.Encode("hello world\u00e9", addBos: false);
            Assert.Equal(byId.IndexOf("hello"), ids[0]);
            Assert.Equal(byId.IndexOf("\u0120w"), ids[1]);
            Assert.Equal("hello world\u00e9", Decode(tok, ids));
            Assert.Throws<LmFormatException>(() => TextTokenizers.Load(vocab, 100));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ByteLevelAlphabet_IsGpt2sTable()
    {
        var map = TextTokenizers.ByteLevelAlphabet();
        Assert.Equal(256, map.Count);
        Assert.Equal(256, map.Values.Distinct().Count());
        Assert.Equal((byte)' ', map['\u0120']); // "Ġ"
        Assert.Equal((byte)'\n', map['\u010A']); // "Ċ"
        Assert.Equal((byte)'A', map['A']);
        Assert.Equal((byte)0xAD, map['\u0143']); // the soft hyphen is the last non-printable byte
    }

    [Fact]
    public void UnknownFileTypes_AndMissingFiles_AreClearErrors()
    {
        var file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<LmFormatException>(() => TextTokenizers.Load(file, 10));
            Assert.Contains("not a known tokenizer type", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Throws<FileNotFoundException>(() => TextTokenizers.Load("/nonexistent/tok.model", 10));
    }

    [Fact]
    public void Gpt2ByteTable_AgreesWithTheLibrarysDecoding()
    {
        var tok = (MlTextTokenizer)TextTokenizers.Load(TextTokenizers.Gpt2, 50257);
        var buf = new byte[tok.MaxTokenBytes];
        int partial = 0;
        for (int id = 0; id < 50256; id += 7)
        {
            string library = tok.Inner.Decode([id]);
            int n = tok.DecodeBytes(-1, id, buf);
            if (library.Contains('\uFFFD', StringComparison.Ordinal)) partial++; // part of a UTF-8 character: the library cannot say
            else Assert.Equal(Encoding.UTF8.GetBytes(library), buf.AsSpan(0, n).ToArray());
        }
        Assert.InRange(partial, 1, 200);
        Assert.Equal(0, tok.DecodeBytes(-1, 50256, buf)); // <|endoftext|>
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.DecodeBytes(-1, 50257, buf));
    }

    [Fact]
    public void SentencePieceModel_MatchesTheReferenceEncoder_AndRoundTrips()
    {
        // Golden/austen400.model: spm_train --input=<first 60,000 bytes of persuasion-heldout.txt> --vocab_size=400
        // --model_type=bpe --byte_fallback=true --character_coverage=1.0 --normalization_rule_name=identity
        // (Debian sentencepiece 0.1.97); the ids below are `spm_encode --output_format=id` of the same text.
        const string Text = "Anne Elliot was persuaded. Caf\u00e9 \u65e5\u672c";
        var tok = TextTokenizers.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "austen400.model"), 400);
        int[] expected = [327, 355, 331, 331, 328, 327, 362, 284, 333, 305, 322, 295, 264, 336, 339, 330, 337, 277, 350, 327, 367, 330, 340, 198, 172, 327, 233, 154, 168, 233, 159, 175];
        Assert.Equal(expected, tok.Encode(Text, addBos: false));
        int[] withBos = tok.Encode(Text, addBos: true);
        Assert.Equal(tok.BosId, withBos[0]);
        // After BOS the word-start space of the first piece is dropped, as run.c does.
        Assert.Equal(Text, Decode(tok, withBos));
        Assert.Equal(" " + Text, Decode(tok, expected));
    }

    [Fact]
    public void Gpt2RanksFile_LoadsByExtension_AndRejectsBadLines()
    {
        var dir = Directory.CreateTempSubdirectory("hpccore-tiktoken");
        try
        {
            string ranks = Path.Combine(dir.FullName, "toy.tiktoken");
            File.WriteAllText(ranks, string.Join("\n", Enumerable.Range(0, 256).Select(b => $"{Convert.ToBase64String([(byte)b])} {b}")) + "\n");
            var tok = TextTokenizers.Load(ranks, 50257); // GPT-2's pattern adds <|endoftext|> = 50256
            Assert.Equal([(int)'H', 'i'], tok.Encode("Hi", addBos: false));
            Assert.Equal(50256, tok.EosId);
            Assert.Equal("Hi \u00e9", Decode(tok, tok.Encode("Hi \u00e9", addBos: false)));
            File.WriteAllText(ranks, "QQ== x\n");
            Assert.Throws<LmFormatException>(() => TextTokenizers.Load(ranks, 50257));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

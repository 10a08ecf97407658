// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text;
using HpcCore.Models.Lm.Loading;
using Xunit;

/// <summary>llama2.c tokenizer: run.c's merge rule on a hand-built vocabulary, round trips, and malformed files.</summary>
public sealed class LlamaCTokenizerTests
{
    /// <summary>A tokenizer file: 3 specials, 256 byte pieces "&lt;0xAB&gt;", then the given pieces with scores.</summary>
    internal static byte[] Build(params (string Piece, float Score)[] pieces)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        var all = new List<(byte[], float)> { ("<unk>"u8.ToArray(), 0f), ("<s>"u8.ToArray(), 0f), ("</s>"u8.ToArray(), 0f) };
        for (int b = 0; b < 256; b++) all.Add((Encoding.ASCII.GetBytes($"<0x{b:X2}>"), 0f));
        all.AddRange(pieces.Select(p => (Encoding.UTF8.GetBytes(p.Piece), p.Score)));
        w.Write(all.Max(p => p.Item1.Length));
        foreach (var (bytes, score) in all)
        {
            w.Write(score);
            w.Write(bytes.Length);
            w.Write(bytes);
        }
        return ms.ToArray();
    }

    private static readonly (string, float)[] Vocab =
        [(" ", -1f), ("a", -2f), ("b", -3f), ("c", -4f), ("ab", -5f), ("bc", -0.5f), (" a", -6f), ("abc", -7f), (" abc", -8f)];

    [Fact]
    public void Encode_MergesHighestScoringPairFirst_AsRunC()
    {
        var tok = LlamaCTokenizer.Parse(Build(Vocab), 259 + Vocab.Length);
        int Id(string p) => 259 + Array.FindIndex(Vocab, v => v.Item1 == p);
        // [" ", a, b, c]: "bc" (-0.5) merges first -> [" ", a, bc]; then " a" (-6) beats "abc" (-7) -> [" a", bc];
        // then " a" + "bc" = " abc" (-8).
        Assert.Equal([1, Id(" abc")], tok.Encode("abc", addBos: true));
        // Unknown code points fall back to bytes + 3.
        Assert.Equal([Id(" "), 'z' + 3], tok.Encode("z", addBos: false));
        Assert.Equal([Id(" "), 0xC3 + 3, 0xA9 + 3], tok.Encode("é", addBos: false));
    }

    [Fact]
    public void Decode_StripsSpaceAfterBos_AndMapsBytePieces()
    {
        var tok = LlamaCTokenizer.Parse(Build(Vocab), 259 + Vocab.Length);
        Span<byte> buf = stackalloc byte[16];
        int id = 259 + 6; // " a"
        Assert.Equal("a", Encoding.UTF8.GetString(buf[..tok.DecodeBytes(1, id, buf)]));
        Assert.Equal(" a", Encoding.UTF8.GetString(buf[..tok.DecodeBytes(id, id, buf)]));
        Assert.Equal(1, tok.DecodeBytes(5, 0x41 + 3, buf));
        Assert.Equal((byte)'A', buf[0]);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.001)]
    [InlineData(0.5)]
    [InlineData(0.99)]
    public void Truncated_Throws(double fraction)
    {
        var data = Build(Vocab);
        var e = Assert.Throws<LmFormatException>(() => LlamaCTokenizer.Parse(data.AsSpan(0, (int)(data.Length * fraction)), 259 + Vocab.Length));
        Assert.Contains("llama2.c tokenizer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeOrHugeLengths_Throw_BeforeAllocating()
    {
        var data = Build(Vocab);
        BitConverter.GetBytes(-5).CopyTo(data, 0);
        Assert.Contains("max_token_length", Assert.Throws<LmFormatException>(() => LlamaCTokenizer.Parse(data, 268)).Message, StringComparison.Ordinal);
        data = Build(Vocab);
        BitConverter.GetBytes(int.MaxValue).CopyTo(data, 8); // first entry's length
        Assert.Contains("entry 0", Assert.Throws<LmFormatException>(() => LlamaCTokenizer.Parse(data, 268)).Message, StringComparison.Ordinal);
        Assert.Throws<LmFormatException>(() => LlamaCTokenizer.Parse(Build(Vocab), 1 << 23));
    }

    [Fact]
    public void Fuzz_RandomCorruptions_ThrowFormatErrorsOrParse()
    {
        var clean = Build(Vocab);
        var rng = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var data = (byte[])clean.Clone();
            int flips = rng.Next(1, 8);
            for (int f = 0; f < flips; f++) data[rng.Next(data.Length)] = (byte)rng.Next(256);
            int length = rng.Next(4) == 0 ? rng.Next(data.Length) : data.Length;
            try
            {
                var tok = LlamaCTokenizer.Parse(data.AsSpan(0, length), 259 + Vocab.Length);
                Assert.Equal(259 + Vocab.Length, tok.VocabSize);
            }
            catch (LmFormatException)
            {
            }
        }
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Text;
using HpcCore.Models.Lm.Loading;
using HpcCore.Testing;
using Xunit;

/// <summary>The heap-based BPE merge gives exactly run.c's ids (its rescanning loop is the twin), ties included.</summary>
public sealed class LlamaCTokenizerMergeTests
{
    // Every piece of one to three letters over "ab " with only three distinct scores: ties everywhere, so the
    // leftmost-on-ties rule decides most merges. "c" has no piece (byte fallback), "é" is one code point piece.
    private static (string, float)[] TieVocab()
    {
        var pieces = new List<(string, float)> { ("é", -1f), ("aé", -2f) };
        string[] letters = ["a", "b", " "];
        var words = letters.ToList();
        words.AddRange(from x in letters from y in letters select x + y);
        words.AddRange(from x in letters from y in letters from z in letters select x + y + z);
        for (int i = 0; i < words.Count; i++) pieces.Add((words[i], -(i % 3)));
        return [.. pieces];
    }

    [Fact]
    public void Encode_EqualsRunC_OnRandomTextWithTies()
    {
        var vocab = TieVocab();
        byte[] file = LlamaCTokenizerTests.Build(vocab);
        var fast = LlamaCTokenizer.Parse(file, 259 + vocab.Length);
        var slow = new RunCTokenizerRescan(file, 259 + vocab.Length);
        var rng = new Random(7);
        string[] alphabet = ["a", "b", " ", "c", "é", "\u4e2d"];
        for (int trial = 0; trial < 400; trial++)
        {
            var text = new StringBuilder();
            int length = rng.Next(0, 120);
            for (int i = 0; i < length; i++) text.Append(alphabet[rng.Next(alphabet.Length)]);
            bool bos = rng.Next(2) == 0;
            Assert.Equal(slow.Encode(text.ToString(), bos), fast.Encode(text.ToString(), bos));
        }
    }

    [Stories260KFact]
    public void Encode_EqualsRunC_OnRealText_Tok512()
    {
        string dir = Stories260K.Folder()!;
        byte[] file = File.ReadAllBytes(Path.Combine(dir, "tok512.bin"));
        var fast = LlamaCTokenizer.Parse(file, 512);
        var slow = new RunCTokenizerRescan(file, 512);
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "persuasion-heldout.txt"));
        var rng = new Random(11);
        for (int trial = 0; trial < 12; trial++)
        {
            int length = rng.Next(1, 1500), start = rng.Next(0, text.Length - length);
            string slice = text.Substring(start, length);
            Assert.Equal(slow.Encode(slice, addBos: true), fast.Encode(slice, addBos: true));
        }
        // Random code points (most fall back to bytes) mixed with letters.
        var mixed = new StringBuilder();
        for (int i = 0; i < 600; i++) mixed.Append(rng.Next(3) == 0 ? char.ConvertFromUtf32(rng.Next(0x20, 0x3000)) : "e t"[rng.Next(3)].ToString());
        Assert.Equal(slow.Encode(mixed.ToString(), addBos: false), fast.Encode(mixed.ToString(), addBos: false));
    }
}

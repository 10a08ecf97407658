// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Tests;

using System.Text;

/// <summary>
/// A llama2.c checkpoint (zero weights: uniform logits, so its perplexity is the vocabulary size) with a 256-token context (the pass-key prompts need about 100),
/// a byte-level tokenizer.bin for it and a held-out text, written to a temporary folder.
/// </summary>
internal sealed class TinyLm : IDisposable
{
    public const int Context = 256;
    private const int Dim = 8, Hidden = 16, Layers = 1, Heads = 2, Vocab = 260;

    public TinyLm()
    {
        Directory.CreateDirectory(Folder);
        WriteCheckpoint(Model);
        WriteTokenizer(Tokenizer);
        File.WriteAllText(Text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 20)));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "hpccore-cli-tests-" + Guid.NewGuid().ToString("N"));

    public string Model => Path.Combine(Folder, "tiny.bin");

    public string Tokenizer => Path.Combine(Folder, "tok.bin");

    public string Text => Path.Combine(Folder, "heldout.txt");

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    // Header (dim, hidden, layers, heads, kv heads, vocab > 0: tied classifier, seq_len), then every float llama2.c
    // stores, the two RoPE tables included.
    private static void WriteCheckpoint(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in new[] { Dim, Hidden, Layers, Heads, Heads, Vocab, Context }) w.Write(v);
        long floats = (long)Vocab * Dim + Layers * (2L * Dim + 4L * Dim * Dim + 3L * Hidden * Dim) + Dim + (long)Context * (Dim / Heads);
        w.Write(new byte[checked(floats * 4)]);
    }

    // run.c's layout: <unk>, <s>, </s>, the 256 byte pieces <0x00>..<0xFF> at ids 3..258, then " ".
    private static void WriteTokenizer(string path)
    {
        var pieces = new List<byte[]> { "<unk>"u8.ToArray(), "<s>"u8.ToArray(), "</s>"u8.ToArray() };
        for (int b = 0; b < 256; b++) pieces.Add(Encoding.ASCII.GetBytes($"<0x{b:X2}>"));
        pieces.Add(" "u8.ToArray());
        using var w = new BinaryWriter(File.Create(path));
        w.Write(8);
        foreach (var piece in pieces)
        {
            w.Write(0f);
            w.Write(piece.Length);
            w.Write(piece);
        }
    }
}

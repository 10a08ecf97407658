// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Consumer;

using System.Text;
using HpcCore.Devices;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;

/// <summary>
/// Greedy generation from the packages on a tiny seeded llama2.c checkpoint and tokenizer written here (dim 16, 2
/// layers, 4 query heads over 2 kv heads, 32 tokens): LmGenerator twice (deterministic), and against the decoder
/// stepped by hand with argmax (the library's lower-level calls).
/// </summary>
internal static class GenerateCheck
{
    private const int Dim = 16, Hidden = 24, Layers = 2, Heads = 4, KvHeads = 2, Seq = 64;
    private const string Letters = " abcdefghijklmnopqrstuvwxyz.";
    private const int Vocab = 3 + 29; // <unk>, <s>, </s>, the letters, "ab"

    public static IEnumerable<(string What, bool Ok)> Run(IBackend backend)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"hpccore-consumer-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string model = Path.Combine(dir, "tiny.bin"), tokenizer = Path.Combine(dir, "tiny-tok.bin");
        try
        {
            WriteCheckpoint(model, seed: 11);
            WriteTokenizer(tokenizer);
            var (config, weights, tok) = LmModelFiles.Load(model, tokenizer, backend);
            using (weights)
            using (var decoder = new LmDecoder(config, weights, backend))
            {
                const string Prompt = "a cab";
                const int MaxNew = 24;
                var first = LmGenerator.Generate(decoder, tok, Prompt, MaxNew);
                var second = LmGenerator.Generate(decoder, tok, Prompt, MaxNew);
                yield return ($"generate (greedy) '{first.Text}' ({first.GeneratedTokens.Length} new tokens) twice",
                    first.GeneratedTokens.Length > 0 && first.Text == second.Text && first.GeneratedTokens.SequenceEqual(second.GeneratedTokens));

                // The same steps by hand: prefill BOS + prompt, then argmax and decode until a stop token or the budget.
                decoder.Reset();
                var logits = decoder.Prefill(first.PromptTokens);
                var manual = new List<int>();
                for (int step = 0; step < MaxNew; step++)
                {
                    int next = TokenSampler.Argmax(logits);
                    if (next == tok.BosId || next == tok.EosId) break;
                    manual.Add(next);
                    if (step + 1 < MaxNew) logits = decoder.Decode(next);
                }
                yield return ("generate == LmDecoder prefill/decode + argmax", manual.SequenceEqual(first.GeneratedTokens));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // llama2.c's run.c format: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative: a
    // separate classifier), seq_len), then float32 tables: embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3,
    // rms_final, freq_cis_real/imag [seq, head_dim / 2] each, classifier. The classifier rows of <unk>, <s> and </s>
    // are zero, so that random weights rarely stop the generation at once.
    private static void WriteCheckpoint(string path, int seed)
    {
        var rng = new Random(seed);
        int kvDim = Dim / Heads * KvHeads;
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in new[] { Dim, Hidden, Layers, Heads, KvHeads, -Vocab, Seq }) w.Write(v);
        void Floats(long n, float scale, float offset = 0)
        {
            for (long i = 0; i < n; i++) w.Write(offset + scale * (float)(rng.NextDouble() * 2 - 1));
        }
        Floats((long)Vocab * Dim, 1f);
        Floats((long)Layers * Dim, 0.1f, 1f);
        Floats((long)Layers * Dim * Dim, 0.5f);
        Floats((long)Layers * kvDim * Dim, 0.5f);
        Floats((long)Layers * kvDim * Dim, 0.5f);
        Floats((long)Layers * Dim * Dim, 0.25f);
        Floats((long)Layers * Dim, 0.1f, 1f);
        Floats((long)Layers * Hidden * Dim, 0.25f);
        Floats((long)Layers * Dim * Hidden, 0.2f);
        Floats((long)Layers * Hidden * Dim, 0.25f);
        Floats(Dim, 0.1f, 1f);
        Floats((long)Seq * (Dim / Heads), 0f);
        for (int v = 0; v < Vocab; v++) Floats(Dim, v < 3 ? 0f : 1f);
    }

    // max_token_length, then per token: score (float32), length (int32), bytes.
    private static void WriteTokenizer(string path)
    {
        string[] pieces = ["<unk>", "\n<s>\n", "\n</s>\n", .. Letters.Select(ch => ch.ToString()), "ab"];
        using var w = new BinaryWriter(File.Create(path));
        w.Write(pieces.Max(p => p.Length));
        for (int i = 0; i < pieces.Length; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(pieces[i]);
            w.Write(pieces[i] == "ab" ? 1f : 0f);
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }
}

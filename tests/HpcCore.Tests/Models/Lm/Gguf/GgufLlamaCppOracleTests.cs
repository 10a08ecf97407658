// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm.Gguf;

using HpcCore.Benchmarks.Quick;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Loading.Gguf;
using HpcCore.Testing;
using LLama.Native;
using Xunit;

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0's CPU build, in-process) as the independent implementation: it reads the GGUF files
/// this repository writes and must produce HpcCore's greedy tokens; on files llama.cpp's own quantiser writes (F16,
/// Q8_0, Q4_0, Q4_K_M: Q4_K and Q6_K blocks) HpcCore's decode must be within each format's rounding of the F32 original
/// (F16, Q8_0) or give llama.cpp's logits up to llama.cpp's own activation quantisation (the 4-bit types). Token
/// ids are passed directly, so only the model is compared, not the tokenizers; except for the Llama 3 file, whose
/// byte-level BPE vocabulary llama.cpp must also tokenize to HpcCore's ids.
/// </summary>
public sealed class GgufLlamaCppOracleTests : IDisposable
{
    private static readonly string[] Prompts = ["Once upon a time", "The little dog was sad because", "Tom and Sue went to the park. They"];
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-llamacpp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Stories260KTheory]
    [InlineData(GgufTensorType.F32)]
    [InlineData(GgufTensorType.Q8_0)]
    public void Stories260K_LlamaCppGreedyTokens_EqualHpcCores(GgufTensorType type)
    {
        string dir = Stories260K.Folder()!;
        using var cpu = new CpuBackend(threads: 1);
        string path = Path.Combine(_dir, $"stories260K-{type}.gguf");
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), cpu);
        using (weights) GgufLlamaWriter.Write(path, config, weights, (LlamaCTokenizer)tok, type);
        // Ours reads the same file back (for Q8_0: our dequantised weights).
        var (c2, w2, tok2) = LmModelFiles.Load(path, null, cpu);
        using var _ = w2;
        using var ours = new LmDecoder(c2, w2, cpu);
        using var peer = new LlamaCppRunner(path, threads: 1, contextSize: c2.MaxSeqLen);
        const int steps = 64;
        foreach (var prompt in Prompts)
        {
            int[] ids = tok2.Encode(prompt, addBos: true);
            var expected = Greedy(ours, ids, steps);
            var actual = peer.Greedy(ids, steps);
            Assert.True(expected.SequenceEqual(actual), $"{type} '{prompt}': ours [{string.Join(",", expected)}] llama.cpp [{string.Join(",", actual)}]");
        }
    }

    [Theory]
    [InlineData(GgufTensorType.F32)]
    [InlineData(GgufTensorType.Q8_0)]
    public void Llama3Folder_LlamaCppTokensAndGreedyTokens_EqualHpcCores(GgufTensorType type)
    {
        // The Hugging Face Llama 3 folder written as GGUF: llama.cpp must read the byte-level BPE vocabulary (gpt2,
        // llama-bpe, merges) to the same ids as HpcCore's tokenizer, and the rope_freqs factors to the same greedy tokens.
        string path = GgufLlama3Tests.WriteGguf(_dir, type);
        using var cpu = new CpuBackend(threads: 1);
        var model = LmModelFiles.Open(path, tokenizerPath: null, cpu);
        using var _ = model.Weights;
        using var ours = new LmDecoder(model.Config, model.Weights, cpu);
        using var peer = new LlamaCppRunner(path, threads: 1, contextSize: model.Config.MaxSeqLen);
        foreach (string text in new[] { "Once upon a time", "The café served crème brûlée — naïve, isn't it?", "日本語 🐶 1234567\n\n  x" })
            Assert.Equal(model.Tokenizer.Encode(text, addBos: true), peer.Tokenize(text, addBos: true));
        const int steps = 32;
        int nearTies = 0;
        foreach (var prompt in Prompts)
        {
            int[] ids = model.Tokenizer.Encode(prompt, addBos: true);
            var expected = Greedy(ours, ids, steps);
            // F32 everywhere, and Q8_0 on the golden prompt ("Once upon a time", whose weights were chosen for a wide
            // top-2 margin): the same 32 tokens.
            if (type == GgufTensorType.F32 || prompt == Prompts[0])
            {
                var actual = peer.Greedy(ids, steps);
                Assert.True(expected.SequenceEqual(actual), $"{type} '{prompt}': ours [{string.Join(",", expected)}] llama.cpp [{string.Join(",", actual)}]");
                continue;
            }
            // Q8_0 elsewhere: llama.cpp also rounds the activations to 8 bits, so on other prompts a near-tie may go
            // the other way. Fed our tokens, llama.cpp must pick ours at every step except where our top two logits
            // are closer than the two decoders' logits are apart.
            ours.Reset();
            peer.Reset();
            float[] a = ours.Prefill(ids).ToArray(), b = peer.Prefill(ids).ToArray();
            for (int s = 0; s < steps; s++)
            {
                int mine = LlamaCppRunner.ArgMax(a), theirs = LlamaCppRunner.ArgMax(b);
                if (mine != theirs)
                {
                    double margin = a[mine] - a[theirs], apart = MaxAbsDiff(a, b);
                    Assert.True(margin <= 2 * apart, $"'{prompt}' step {s}: llama.cpp {theirs}, ours {mine} by {margin:G4} while the logits differ by at most {apart:G4}");
                    nearTies++;
                }
                a = ours.Decode(expected[s]).ToArray();
                b = peer.Decode(expected[s]).ToArray();
            }
        }
        Assert.True(nearTies <= 4, $"{nearTies} of {2 * steps} steps went llama.cpp's way: more near-ties than rounding explains");
    }

    [Theory]
    [InlineData(LLamaFtype.MOSTLY_F16)]
    [InlineData(LLamaFtype.MOSTLY_Q8_0)]
    [InlineData(LLamaFtype.MOSTLY_Q4_0)]
    [InlineData(LLamaFtype.MOSTLY_Q4_K_M)]
    public void LlamaCppQuantisedFile_LoadsToLlamaCppsLogits(LLamaFtype ftype)
    {
        // 256-wide rows so the K-quants apply; llama.cpp's quantiser writes the file.
        var config = new LmConfig(LmArchitecture.Llama, 256, 512, 2, 4, 2, 320, 128);
        string f32 = Path.Combine(_dir, "r-f32.gguf"), quant = Path.Combine(_dir, $"r-{ftype}.gguf");
        RandomLlamaModel.WriteGguf(f32, config, GgufTensorType.F32, seed: 21);
        LlamaCppRunner.EnsureLoaded();
        Assert.True(LLama.LLamaQuantizer.Quantize(f32, quant, ftype, 1), $"llama.cpp could not quantise to {ftype}");
        using (var file = GgufFile.Open(quant))
        {
            var types = file.Tensors.Select(t => t.Type).ToHashSet();
            Assert.Contains(ftype switch
            {
                LLamaFtype.MOSTLY_F16 => GgufTensorType.F16,
                LLamaFtype.MOSTLY_Q8_0 => GgufTensorType.Q8_0,
                LLamaFtype.MOSTLY_Q4_0 => GgufTensorType.Q4_0,
                _ => GgufTensorType.Q4_K,
            }, types);
            if (ftype == LLamaFtype.MOSTLY_Q4_K_M) Assert.Contains(GgufTensorType.Q6_K, types);
        }
        if (ftype is LLamaFtype.MOSTLY_F16 or LLamaFtype.MOSTLY_Q8_0)
        {
            // llama.cpp rounds the activations to the same precision, so its logits differ from ours by as much as the
            // weights' rounding: check instead that every value llama.cpp encoded decodes to within the format's
            // bound of the F32 original (F16: half an ulp; Q8_0: half a step d = max|x|/127 of its block, plus d's
            // own F16 rounding). A misread block breaks the bound by orders of magnitude.
            using var q = GgufFile.Open(quant);
            using var original = GgufFile.Open(f32);
            int checkedTensors = 0;
            foreach (var t in q.Tensors.Where(t => t.Type is GgufTensorType.F16 or GgufTensorType.Q8_0))
            {
                var decoded = q.ReadF32(t);
                var source = original.ReadF32(original.Find(t.Name)!);
                for (int b = 0; b < source.Length; b += 32)
                {
                    double amax = 0;
                    for (int i = b; i < b + 32; i++) amax = Math.Max(amax, Math.Abs(source[i]));
                    for (int i = b; i < b + 32; i++)
                    {
                        double bound = t.Type == GgufTensorType.F16 ? Math.Abs(source[i]) * Math.Pow(2, -11) + 1e-7 : amax / 254 + amax * Math.Pow(2, -10);
                        Assert.True(Math.Abs(decoded[i] - source[i]) <= bound, $"{t.Name}[{i}]: {decoded[i]} vs {source[i]} ({t.Type})");
                    }
                }
                checkedTensors++;
            }
            Assert.True(checkedTensors >= 2 * config.Layers, $"only {checkedTensors} tensors were {ftype}");
            return;
        }
        using var cpu = new CpuBackend(threads: 1);
        int[] prompt = [1, 300, 17, 260, 45, 99, 310, 2, 280];
        float[] Ours(string path)
        {
            var (c, w, _) = LmModelFiles.Load(path, null, cpu);
            using var __ = w;
            using var d = new LmDecoder(c, w, cpu);
            return d.Prefill(prompt).ToArray();
        }
        float[] Peer(string path)
        {
            using var r = new LlamaCppRunner(path, threads: 1, contextSize: config.MaxSeqLen);
            return r.Prefill(prompt).ToArray();
        }
        var ours = Ours(quant);
        var peer = Peer(quant);
        var exact = Ours(f32);
        // llama.cpp multiplies quantised weights with activations it quantises to 8 bits, so the logits differ a
        // little; a wrong block decode (a swapped nibble, a scale from the wrong sub-block) differs as much as the
        // quantisation itself. So the gap to llama.cpp must be well under the gap between the quantised and F32 models.
        double gapPeer = MaxAbsDiff(ours, peer), gapQuant = MaxAbsDiff(ours, exact);
        Assert.True(gapQuant > 0, "quantisation changed nothing: the file is not quantised");
        Assert.True(gapPeer < 0.25 * gapQuant, $"{ftype}: |ours - llama.cpp| = {gapPeer:G4}, |quantised - F32| = {gapQuant:G4}");
        Assert.Equal(LlamaCppRunner.ArgMax(peer), LlamaCppRunner.ArgMax(ours));
    }

    private static double MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    private static int[] Greedy(LmDecoder decoder, int[] prompt, int steps)
    {
        decoder.Reset();
        var logits = decoder.Prefill(prompt);
        var result = new int[steps];
        for (int s = 0; s < steps; s++)
        {
            result[s] = LlamaCppRunner.ArgMax(logits);
            if (s + 1 < steps) logits = decoder.Decode(result[s]);
        }
        return result;
    }
}

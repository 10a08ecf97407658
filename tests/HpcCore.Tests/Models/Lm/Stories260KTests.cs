// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Testing;
using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>
/// Karpathy's stories260K (llama2.c): the greedy continuation must be exactly run.c's, and the first steps' logits
/// must match the double-precision reference forward. Skipped with a message when the files are absent.
/// </summary>
public sealed class Stories260KTests
{
    private const string RunCFirstSentences = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    [Stories260KFact]
    public void Greedy_ContinuesExactlyAsRunC()
    {
        var dir = Stories260K.Folder()!;
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), cpu);
        using var _ = weights;
        using var decoder = new LmDecoder(config, weights, cpu);
        var streamed = new System.Text.StringBuilder();
        var result = LmGenerator.Generate(decoder, tok, "Once upon a time", 40, default, s => streamed.Append(s));
        Assert.StartsWith(RunCFirstSentences, result.Text, StringComparison.Ordinal);
        Assert.Equal(result.Text, streamed.ToString());
    }

    [Stories260KFact]
    public void FirstSteps_MatchReferenceForward()
    {
        var dir = Stories260K.Folder()!;
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), cpu);
        using var _ = weights;
        Assert.Equal((64, 172, 5, 8, 4, 512, 512), (config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads, config.VocabSize, config.MaxSeqLen));
        int[] prompt = tok.Encode("Once upon a time", addBos: true);
        Assert.Equal(1, prompt[0]);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PrefillChunk: 3));
        var tokens = new List<int>(prompt);
        var logits = decoder.Prefill(prompt);
        for (int step = 0; step < 6; step++)
        {
            int next = HpcCore.Models.Lm.Sampling.TokenSampler.Argmax(logits);
            tokens.Add(next);
            logits = decoder.Decode(next);
        }
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), [.. tokens]);
        LmDecoderTests.AssertRow(expected, tokens.Count - 1, logits);
    }

    public static TheoryData<string> RunCPrompts => ["Once upon a time", "Lily and Tom went to the park", "The little dog", "One day, a girl named Sue"];

    /// <summary>
    /// llama2.c's run.c output for four prompts, 256 positions each (Golden/stories260k-runc.txt: run.c built from
    /// karpathy/llama2.c, -t 0 -n 256): the whole greedy text, prompt included, must be identical. run.c's -n counts
    /// forward positions from BOS, and the last position's sample is printed too, so it generates 257 minus the
    /// prompt's tokens (BOS included) unless it samples BOS first.
    /// </summary>
    [Stories260KTheory]
    [MemberData(nameof(RunCPrompts))]
    public void Greedy_256Positions_IsRunCsTextExactly(string prompt)
    {
        var dir = Stories260K.Folder()!;
        using var cpu = new CpuBackend(threads: 1);
        var (config, weights, tok) = LmModelFiles.Load(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"), cpu);
        using var _ = weights;
        using var decoder = new LmDecoder(config, weights, cpu);
        int promptTokens = tok.Encode(prompt, addBos: true).Length;
        var result = LmGenerator.Generate(decoder, tok, prompt, 257 - promptTokens, default);
        Assert.Equal(RunCText(prompt), result.Text.TrimEnd('\n'));
    }

    private static string RunCText(string prompt)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Golden", "stories260k-runc.txt"));
        int start = Array.IndexOf(lines, "=== " + prompt);
        Assert.True(start >= 0, $"no run.c block for '{prompt}'");
        int end = start + 1;
        while (end < lines.Length && !lines[end].StartsWith("=== ", StringComparison.Ordinal)) end++;
        return string.Join('\n', lines[(start + 1)..end]).TrimEnd('\n');
    }
}

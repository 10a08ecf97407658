// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using System.Diagnostics;
using System.Text;
using HpcCore.Models.Lm.Sampling;

/// <summary>What <see cref="LmGenerator.Generate"/> produced and how fast.</summary>
/// <param name="PromptTokens">The prompt's token ids (BOS first).</param>
/// <param name="GeneratedTokens">Ids sampled after the prompt (a stop token is not included).</param>
/// <param name="Text">The prompt and the continuation as text.</param>
/// <param name="PrefillSeconds">Time spent running the prompt.</param>
/// <param name="DecodeSeconds">Time spent in decode steps (forward + sampling).</param>
public sealed record LmGeneration(int[] PromptTokens, int[] GeneratedTokens, string Text, double PrefillSeconds, double DecodeSeconds)
{
    /// <summary>Generated tokens per second of decode time.</summary>
    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? GeneratedTokens.Length / DecodeSeconds : 0;
}

/// <summary>
/// Autoregressive generation as llama2.c's run.c does it: BOS + prompt, then sample until the step budget or a
/// stop token (the tokenizer's BOS and EOS, or the ids given, e.g. generation_config.json's eos_token_id list); the
/// text is the prompt followed by the continuation, streamed piece by piece.
/// </summary>
public static class LmGenerator
{
    /// <summary>
    /// Generates up to <paramref name="maxNewTokens"/> tokens after <paramref name="prompt"/>; <paramref name="onText"/>
    /// receives the text as it is produced (whole UTF-8 characters only). <paramref name="stopIds"/> end generation
    /// (null: the tokenizer's BOS and EOS).
    /// </summary>
    public static LmGeneration Generate(LmDecoder decoder, ITextTokenizer tokenizer, string prompt, int maxNewTokens,
        in SamplerOptions sampling = default, Action<string>? onText = null, IReadOnlySet<int>? stopIds = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        var sampler = new TokenSampler(decoder.Config.VocabSize, sampling);
        int[] promptIds = tokenizer.Encode(prompt, addBos: tokenizer.BosId >= 0);
        var text = new StringBuilder();
        var utf8 = Encoding.UTF8.GetDecoder();
        var bytes = new byte[tokenizer.MaxTokenBytes + 8];
        var chars = new char[bytes.Length + 8];
        void Emit(int previous, int token)
        {
            int n = tokenizer.DecodeBytes(previous, token, bytes);
            int m = utf8.GetChars(bytes, 0, n, chars, 0, flush: false);
            if (m == 0) return;
            var piece = new string(chars, 0, m);
            text.Append(piece);
            onText?.Invoke(piece);
        }
        for (int i = 1; i < promptIds.Length; i++) Emit(promptIds[i - 1], promptIds[i]);

        decoder.Reset();
        var clock = Stopwatch.StartNew();
        var logits = decoder.Prefill(promptIds);
        double prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var generated = new List<int>(Math.Min(maxNewTokens, 4096));
        int prev = promptIds[^1];
        for (int step = 0; step < maxNewTokens; step++)
        {
            int next = sampler.Sample(logits);
            if (stopIds is not null ? stopIds.Contains(next) : next == tokenizer.BosId || next == tokenizer.EosId) break;
            generated.Add(next);
            Emit(prev, next);
            prev = next;
            if (step + 1 == maxNewTokens || !decoder.CanAppend(1)) break;
            logits = decoder.Decode(next);
        }
        double decode = clock.Elapsed.TotalSeconds;
        return new LmGeneration(promptIds, [.. generated], text.ToString(), prefill, decode);
    }
}

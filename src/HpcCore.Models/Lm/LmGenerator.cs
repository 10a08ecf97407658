// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using System.Diagnostics;
using System.Text;
using HpcCore.Models.KvCache;
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
    /// <exception cref="KvCapacityException">
    /// The prompt does not fit the decoder's cache. A prompt of more UTF-8 bytes than the cache's tokens times the
    /// tokenizer's longest piece cannot fit in any tokenization, and is refused before it is encoded, so the work spent on
    /// a prompt that is refused is bounded by the context, not by the prompt (issue #21).
    /// </exception>
    public static LmGeneration Generate(LmDecoder decoder, ITextTokenizer tokenizer, string prompt, int maxNewTokens,
        in SamplerOptions sampling = default, Action<string>? onText = null, IReadOnlySet<int>? stopIds = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        CheckPromptLength(decoder, tokenizer, prompt);
        var sampler = new TokenSampler(decoder.Config.VocabSize, sampling);
        int[] promptIds = tokenizer.Encode(prompt, addBos: tokenizer.BosId >= 0);
        int room = Capacity(decoder);
        if (promptIds.Length > room)
            throw new KvCapacityException($"LmGenerator.Generate: the prompt is {promptIds.Length} tokens but the model's context (its KV cache) holds {room}; shorten the prompt.");
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

    // Every token of an encoding decodes to at most MaxTokenBytes of the text, so a text of more bytes than the context
    // times that needs more tokens than the context holds. Counting UTF-8 bytes is linear and allocates nothing.
    private static void CheckPromptLength(LmDecoder decoder, ITextTokenizer tokenizer, string prompt)
    {
        int room = Capacity(decoder);
        long most = (long)room * Math.Max(1, tokenizer.MaxTokenBytes);
        // A UTF-8 byte count is at least the char count: skip the count for prompts that cannot be too long.
        if (prompt.Length <= most / 3) return;
        long bytes = System.Text.Encoding.UTF8.GetByteCount(prompt);
        if (bytes > most)
            throw new KvCapacityException($"LmGenerator.Generate: the prompt is {bytes} UTF-8 bytes; the model's context holds {room} tokens of at " +
                                          $"most {tokenizer.MaxTokenBytes} bytes each ({most} bytes), so it cannot fit; shorten the prompt.");
    }

    // The tokens a prompt may have: the cache's capacity, and with original positions the trained context too.
    private static int Capacity(LmDecoder decoder)
    {
        int room = decoder.Cache.Head(0, 0).MaxTokens;
        return decoder.PositionMode == KvPositionMode.Original ? Math.Min(room, decoder.Config.MaxSeqLen) : room;
    }
}

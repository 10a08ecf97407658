// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using System.Diagnostics;
using System.Text;
using HpcCore.Devices;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm.Sampling;
using HpcCore.Tensors;

/// <summary>One policy at one budget: long-context quality and cost.</summary>
/// <param name="Policy">Policy name.</param>
/// <param name="Budget">Cache budget as a fraction of the context.</param>
/// <param name="Perplexity">Held-out perplexity of the continuation tokens (teacher-forced decode after a compressed prefill).</param>
/// <param name="PasskeyCorrect">Pass-key trials answered exactly.</param>
/// <param name="PasskeyTrials">Pass-key trials run.</param>
/// <param name="MeanKvBytes">KV bytes held, averaged over the decode steps of the perplexity run.</param>
/// <param name="DecodeTokensPerSecond">Teacher-forced decode speed.</param>
/// <param name="Passkey">Pass-key results by prompt length and needle depth.</param>
public sealed record LmEvalResult(string Policy, double Budget, double Perplexity, int PasskeyCorrect, int PasskeyTrials, long MeanKvBytes,
    double DecodeTokensPerSecond, IReadOnlyList<PasskeyCell> Passkey)
{
    /// <summary>Fraction of pass-key trials answered exactly.</summary>
    public double PasskeyAccuracy => PasskeyTrials > 0 ? (double)PasskeyCorrect / PasskeyTrials : 0;
}

/// <summary>Pass-key trials at one prompt length and needle depth.</summary>
/// <param name="Length">Prompt length in tokens.</param>
/// <param name="Depth">Fraction of the filler before the needle.</param>
/// <param name="Correct">Trials answered exactly.</param>
/// <param name="Trials">Trials run.</param>
public readonly record struct PasskeyCell(int Length, double Depth, int Correct, int Trials);

/// <summary>Settings of <see cref="LmEvaluator.Run(LmConfig, LmWeights, IBackend, ITextTokenizer, string, string, double, in LmEvalOptions)"/>; <c>default</c> picks sizes from the model's context.</summary>
/// <param name="Windows">Perplexity windows (0: 4).</param>
/// <param name="Context">Tokens per window and longest pass-key prompt (0: the model's MaxSeqLen).</param>
/// <param name="Seed">Seed of window offsets and pass keys.</param>
/// <param name="PasskeyTrials">Pass-key trials per (length, depth) cell (0: 2); lengths are context/4, /2 and context - 8.</param>
/// <param name="CacheDType">Cached key/value type (F32, F16 or BF16).</param>
public readonly record struct LmEvalOptions(int Windows = 0, int Context = 0, int Seed = 0, int PasskeyTrials = 0, DType CacheDType = DType.F32);

/// <summary>
/// Long-context evaluation of a KV policy: (1) perplexity of held-out text where the first half of each window is
/// prefilled (the policy then compresses the cache to its budget) and the second half is decoded teacher-forced;
/// (2) pass-key retrieval: a 5-digit key planted at five depths of filler text of three lengths, asked for at the
/// end, answered by greedy decoding. The whole prompt (question included) is prefilled with full attention, then the
/// policy compresses the cache to its budget, so the answer's first token comes from the prefill and the rest
/// from decode steps over the compressed cache: a policy passes only if it kept the needle. No benchmark suite like LongBench is reachable here; this is the
/// needle-in-a-haystack proxy from data-and-oracles.md.
/// </summary>
public static class LmEvaluator
{
    /// <summary>Depths (fraction of the filler before the key) of the pass-key trials.</summary>
    public static readonly double[] Depths = [0.1, 0.3, 0.5, 0.7, 0.9];

    /// <summary>
    /// Evaluates <paramref name="policySpec"/> (a <see cref="KvPolicyRegistry"/> name, optionally with settings:
    /// <c>snapkv:pool=max</c>) at <paramref name="budget"/> (fraction of the context).
    /// </summary>
    public static LmEvalResult Run(LmConfig config, LmWeights weights, IBackend backend, ITextTokenizer tokenizer, string heldOut,
        string policySpec, double budget, in LmEvalOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(heldOut);
        return Run(config, weights, backend, tokenizer, tokenizer.Encode(heldOut, addBos: false), policySpec, budget, options);
    }

    /// <summary>
    /// As <see cref="Run(LmConfig, LmWeights, IBackend, ITextTokenizer, string, string, double, in LmEvalOptions)"/> on
    /// held-out text already encoded (without BOS): a sweep over policies and budgets encodes it once.
    /// </summary>
    public static LmEvalResult Run(LmConfig config, LmWeights weights, IBackend backend, ITextTokenizer tokenizer, int[] heldOutTokens,
        string policySpec, double budget, in LmEvalOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(heldOutTokens);
        if (!(budget > 0 && budget <= 1)) throw new ArgumentOutOfRangeException(nameof(budget), $"LmEvaluator: budget {budget} must be in (0, 1].");
        int context = options.Context > 0 ? Math.Min(options.Context, config.MaxSeqLen) : config.MaxSeqLen;
        var (entry, parsed) = KvPolicyRegistry.Parse(policySpec, new KvPolicySettings());
        bool[,]? retrieval = entry.Name == "razor" ? LmRetrievalHeads.Detect(config, weights, backend, period: Math.Max(2, context / 4)) : null;
        KvPolicy Policy(int length) => KvPolicyRegistry.Create(entry.Name,
            parsed with { Budget = Math.Max(4, (int)Math.Round(budget * length)), RetrievalHeads = retrieval, ContextHint = length });
        var cacheType = options.CacheDType;

        int[] text = heldOutTokens;
        if (text.Length < context)
            throw new ArgumentException($"LmEvaluator: the held-out text has {text.Length} tokens; a window needs {context} (the context).", nameof(heldOutTokens));
        var rng = new Random(options.Seed);
        int windows = options.Windows > 0 ? options.Windows : 4, prefix = context / 2;
        double nll = 0;
        long scored = 0, bytes = 0, steps = 0;
        var clock = new Stopwatch();
        using (var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(MaxTokens: context, Policy: Policy(prefix), CacheDType: cacheType)))
        {
            var window = new int[context];
            for (int w = 0; w < windows; w++)
            {
                int at = rng.Next(0, Math.Max(1, text.Length - context));
                window[0] = tokenizer.BosId >= 0 ? tokenizer.BosId : text[at];
                text.AsSpan(at, Math.Min(context - 1, text.Length - at)).CopyTo(window.AsSpan(1));
                decoder.Reset();
                var logits = decoder.Prefill(window.AsSpan(0, prefix));
                clock.Start();
                for (int t = prefix; t < context; t++)
                {
                    nll -= LogSoftmax(logits, window[t]);
                    scored++;
                    if (t + 1 < context) logits = decoder.Decode(window[t]);
                    bytes += decoder.Cache.BytesHeld;
                    steps++;
                }
                clock.Stop();
            }
        }
        int correct = 0, trials = 0, perCell = options.PasskeyTrials > 0 ? options.PasskeyTrials : 2;
        var cells = new List<PasskeyCell>();
        // The longest prompt leaves room for the 8 answer tokens inside the trained context (original positions refuse past it).
        foreach (int length in new[] { context / 4, context / 2, context - 8 })
        {
            // Prompts first: at short lengths the needle and question alone can exceed the nominal length.
            var prompts = Depths.SelectMany(depth => Enumerable.Range(0, perCell).Select(_ =>
            {
                string key = rng.Next(10000, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return (Depth: depth, Key: key, Prompt: PasskeyPrompt(tokenizer, text, key, length, depth, rng));
            })).ToArray();
            int longest = prompts.Max(p => p.Prompt.Length);
            using var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(MaxTokens: Math.Min(longest + 16, config.MaxSeqLen), Policy: Policy(longest), CacheDType: cacheType));
            foreach (var (depth, key, prompt) in prompts)
            {
                decoder.Reset();
                var logits = decoder.Prefill(prompt);
                var answer = new List<int>();
                for (int i = 0; i < 8 && answer.Count < 8; i++)
                {
                    if (decoder.Position >= config.MaxSeqLen) break; // an answer that would run past the trained context is a miss
                    int next = TokenSampler.Argmax(logits);
                    answer.Add(next);
                    if (AnswerComplete(Decode(tokenizer, prompt[^1], answer), key)) break;
                    logits = decoder.Decode(next);
                }
                bool hit = AnswerMatches(Decode(tokenizer, prompt[^1], answer), key);
                trials++;
                if (hit) correct++;
                int cell = cells.FindIndex(c => c.Length == length && c.Depth == depth);
                if (cell < 0) cells.Add(new PasskeyCell(length, depth, hit ? 1 : 0, 1));
                else cells[cell] = cells[cell] with { Correct = cells[cell].Correct + (hit ? 1 : 0), Trials = cells[cell].Trials + 1 };
            }
        }
        return new LmEvalResult(policySpec, budget, Math.Exp(nll / Math.Max(1, scored)), correct, trials, bytes / Math.Max(1, steps),
            steps / Math.Max(1e-9, clock.Elapsed.TotalSeconds), cells);
    }

    /// <summary>
    /// BOS, filler with "The pass key is K. Remember it. K is the pass key." at <paramref name="depth"/>, then the
    /// question (llama2.c tokenizers prepend the dummy-prefix space to each encoded piece).
    /// </summary>
    public static int[] PasskeyPrompt(ITextTokenizer tokenizer, int[] filler, string key, int length, double depth, Random rng)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(filler);
        ArgumentNullException.ThrowIfNull(rng);
        int[] needle = tokenizer.Encode($"The pass key is {key}. Remember it. {key} is the pass key.", addBos: false);
        int[] question = tokenizer.Encode("What is the pass key? The pass key is", addBos: false);
        int body = Math.Max(0, length - 1 - needle.Length - question.Length);
        int start = rng.Next(0, Math.Max(1, filler.Length - body));
        var tokens = new List<int>(length);
        if (tokenizer.BosId >= 0) tokens.Add(tokenizer.BosId);
        int split = (int)(body * depth);
        tokens.AddRange(filler.AsSpan(start, Math.Min(split, filler.Length - start)));
        tokens.AddRange(needle);
        tokens.AddRange(filler.AsSpan(start + split, Math.Max(0, Math.Min(body - split, filler.Length - start - split))));
        tokens.AddRange(question);
        return [.. tokens];
    }

    /// <summary>
    /// Whether greedy decoding has produced as many answer characters as the key has. Leading white space does not
    /// count: a byte-level model answers " 12345", and counting the space stopped it one digit short.
    /// </summary>
    internal static bool AnswerComplete(string decoded, string key) => decoded.TrimStart().Length >= key.Length;

    /// <summary>Whether the decoded answer, after leading white space, starts with the key.</summary>
    internal static bool AnswerMatches(string decoded, string key) => decoded.TrimStart().StartsWith(key, StringComparison.Ordinal);

    internal static double LogSoftmax(ReadOnlySpan<float> logits, int target)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        return logits[target] - max - Math.Log(sum);
    }

    private static string Decode(ITextTokenizer tokenizer, int previous, List<int> tokens)
    {
        var bytes = new List<byte>();
        var buf = new byte[tokenizer.MaxTokenBytes + 8];
        foreach (int t in tokens)
        {
            int n = tokenizer.DecodeBytes(previous, t, buf);
            bytes.AddRange(buf.AsSpan(0, n));
            previous = t;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}

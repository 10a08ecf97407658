// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Devices;
using HpcCore.Models.KvCache;

/// <summary>Perplexity of one window of a long teacher-forced decode.</summary>
/// <param name="Start">Position of the window's first scored token.</param>
/// <param name="Tokens">Tokens scored.</param>
/// <param name="Perplexity">exp(mean negative log-likelihood) over the window.</param>
public readonly record struct LmWindowPerplexity(int Start, int Tokens, double Perplexity);

/// <summary>
/// A long-context run: held-out text decoded token by token, teacher-forced, for <c>factor</c> times the model's
/// trained context, perplexity reported per window of the trained context (StreamingLLM's figure 3 setting). A
/// policy and positions that cannot go past the trained context stop with their error, reported in
/// <see cref="Refused"/>, with the windows scored until then.
/// </summary>
/// <param name="Policy">The policy spec run.</param>
/// <param name="Windows">Per-window perplexities.</param>
/// <param name="Refused">The decoder's message when it refused to go on; null when it ran to the end.</param>
public sealed record LmLongContextResult(string Policy, IReadOnlyList<LmWindowPerplexity> Windows, string? Refused);

/// <summary>Runs <see cref="LmLongContextResult"/>.</summary>
public static class LmLongContext
{
    /// <summary>
    /// Decodes <paramref name="factor"/> x MaxSeqLen tokens of <paramref name="heldOut"/> under <paramref name="policySpec"/>
    /// (a <see cref="KvPolicyRegistry"/> spec) keeping <paramref name="budget"/> tokens per head.
    /// </summary>
    public static LmLongContextResult Run(LmConfig config, LmWeights weights, IBackend backend, ITextTokenizer tokenizer, string heldOut,
        string policySpec, int budget, int factor = 4)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(heldOut);
        return Run(config, weights, backend, tokenizer.Encode(heldOut, addBos: tokenizer.BosId >= 0), policySpec, budget, factor);
    }

    /// <summary>
    /// As <see cref="Run(LmConfig, LmWeights, IBackend, ITextTokenizer, string, string, int, int)"/> on held-out text
    /// already encoded (BOS first when the tokenizer has one): several policies share one encoding.
    /// </summary>
    public static LmLongContextResult Run(LmConfig config, LmWeights weights, IBackend backend, int[] text,
        string policySpec, int budget, int factor = 4)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        int context = config.MaxSeqLen, length = checked(factor * context);
        if (text.Length < length + 1)
            throw new ArgumentException($"LmLongContext: the held-out text has {text.Length} tokens; {length + 1} are needed ({factor} x {context}).", nameof(text));
        var (entry, settings) = KvPolicyRegistry.Parse(policySpec, new KvPolicySettings { Budget = budget });
        var policy = KvPolicyRegistry.Create(entry.Name, settings with { ContextHint = context });
        var windows = new List<LmWindowPerplexity>();
        using var decoder = new LmDecoder(config, weights, backend, new LmDecoderOptions(Policy: policy));
        double nll = 0;
        int scored = 0, start = 0;
        try
        {
            var logits = decoder.Decode(text[0]);
            for (int t = 1; t <= length; t++)
            {
                nll -= LmEvaluator.LogSoftmax(logits, text[t]);
                if (++scored == context || t == length)
                {
                    windows.Add(new LmWindowPerplexity(start, scored, Math.Exp(nll / scored)));
                    (nll, scored, start) = (0, 0, t);
                }
                if (t < length) logits = decoder.Decode(text[t]);
            }
        }
        catch (InvalidOperationException e)
        {
            if (scored > 0) windows.Add(new LmWindowPerplexity(start, scored, Math.Exp(nll / scored)));
            return new LmLongContextResult(policySpec, windows, e.Message);
        }
        return new LmLongContextResult(policySpec, windows, null);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Sampling;

/// <summary>
/// Greedy, temperature, top-k and top-p (nucleus, Holtzman et al. 2020) sampling over a logits row, with a seeded
/// xorshift64* generator (as llama2.c's run.c). Buffers are sized once for the vocabulary: sampling allocates nothing.
/// </summary>
public sealed class TokenSampler
{
    private readonly Candidate[] _candidates;
    private ulong _state;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabSize"/> tokens.</summary>
    public TokenSampler(int vocabSize, in SamplerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        if (options.Temperature < 0 || float.IsNaN(options.Temperature))
            throw new ArgumentOutOfRangeException(nameof(options), $"TokenSampler: temperature {options.Temperature} must be >= 0.");
        if (options.TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"TokenSampler: top-k {options.TopK} must be >= 0.");
        if (options.TopP < 0 || float.IsNaN(options.TopP))
            throw new ArgumentOutOfRangeException(nameof(options), $"TokenSampler: top-p {options.TopP} must be >= 0.");
        Options = options;
        _candidates = new Candidate[vocabSize];
        _state = options.Seed == 0 ? 0x9E3779B97F4A7C15UL : options.Seed;
    }

    /// <summary>The options.</summary>
    public SamplerOptions Options { get; }

    /// <summary>Draws the next token id from <paramref name="logits"/> [V].</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _candidates.Length)
            throw new ArgumentException($"TokenSampler.Sample: logits has {logits.Length} entries, the vocabulary {_candidates.Length}.", nameof(logits));
        if (Options.Temperature == 0f) return Argmax(logits);
        int n = logits.Length;
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp((logits[i] - max) / Options.Temperature);
            _candidates[i] = new Candidate(p, i);
            sum += p;
        }
        var c = _candidates.AsSpan();
        bool truncate = Options.TopK > 0 && Options.TopK < n || Options.TopP > 0f && Options.TopP < 1f;
        if (truncate)
        {
            c.Sort(default(ByProbabilityDescending));
            int keep = Options.TopK > 0 ? Math.Min(Options.TopK, n) : n;
            if (Options.TopP > 0f && Options.TopP < 1f)
            {
                double mass = 0, total = 0;
                for (int i = 0; i < keep; i++) total += c[i].P;
                for (int i = 0; i < keep; i++)
                {
                    mass += c[i].P;
                    if (mass >= Options.TopP * total) { keep = i + 1; break; }
                }
            }
            c = c[..keep];
            sum = 0;
            foreach (var x in c) sum += x.P;
        }
        double r = NextUnit() * sum, cdf = 0;
        foreach (var x in c)
        {
            cdf += x.P;
            if (r < cdf) return x.Id;
        }
        return c[^1].Id;
    }

    /// <summary>Index of the largest logit; the lowest index among equals.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    private double NextUnit()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return ((_state * 0x2545F4914F6CDD1DUL) >> 40) / 16777216.0;
    }

    private readonly record struct Candidate(float P, int Id);

    private readonly struct ByProbabilityDescending : IComparer<Candidate>
    {
        public int Compare(Candidate a, Candidate b) => a.P != b.P ? b.P.CompareTo(a.P) : a.Id.CompareTo(b.Id);
    }
}

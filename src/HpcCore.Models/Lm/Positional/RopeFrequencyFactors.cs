// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Positional;

/// <summary>
/// RoPE scaling given as one divisor per frequency pair: pair i rotates at <c>theta^(-2i/D) / Factors[i]</c>. This is
/// how a GGUF file carries Llama 3.1's scaling (llama.cpp's <c>rope_freqs.weight</c>, F32 [D/2]); llama.cpp's converter
/// computes the factors from config.json's <c>rope_scaling</c>, as <see cref="RopeFrequencyScaling.FrequencyFactors"/> does here.
/// Equality compares the factors, not the array.
/// </summary>
public sealed record RopeFrequencyFactors : RopeFrequencyScaling
{
    private readonly float[] _factors;

    /// <summary>Copies <paramref name="factors"/> (one per pair of head dims).</summary>
    public RopeFrequencyFactors(IReadOnlyList<float> factors)
    {
        ArgumentNullException.ThrowIfNull(factors);
        _factors = [.. factors];
    }

    /// <summary>The divisor of each pair's base frequency.</summary>
    public IReadOnlyList<float> Factors => _factors;

    /// <inheritdoc />
    public override double[] InverseFrequencies(double theta, int headDim)
    {
        Validate(headDim);
        var inv = new double[_factors.Length];
        for (int i = 0; i < inv.Length; i++) inv[i] = BaseFrequency(theta, i, headDim) / _factors[i];
        return inv;
    }

    /// <summary>The factors themselves (not recomputed through the frequencies, which could move one by an ulp).</summary>
    public override float[] FrequencyFactors(double theta, int headDim)
    {
        Validate(headDim);
        return [.. _factors];
    }

    /// <inheritdoc />
    public override void Validate(int headDim)
    {
        if (_factors.Length != headDim / 2)
            throw new ArgumentException($"RopeFrequencyFactors: {_factors.Length} factors for a head of {headDim} dims; expected {headDim / 2}, one per pair.", nameof(headDim));
        for (int i = 0; i < _factors.Length; i++)
            if (!(_factors[i] > 0 && float.IsFinite(_factors[i])))
                throw new ArgumentException($"RopeFrequencyFactors: factor {i} = {_factors[i]} must be positive and finite.");
    }

    /// <inheritdoc />
    public bool Equals(RopeFrequencyFactors? other) => other is not null && _factors.AsSpan().SequenceEqual(other._factors);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (float f in _factors) hash.Add(f);
        return hash.ToHashCode();
    }
}

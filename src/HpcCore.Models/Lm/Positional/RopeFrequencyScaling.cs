// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Positional;

/// <summary>
/// RoPE whose per-pair inverse frequencies are not simply <c>theta^(-2i/D)</c>: Llama 3.1's scaling as config.json
/// states it (<see cref="Llama3RopeScaling"/>) or as a GGUF file stores it (<see cref="RopeFrequencyFactors"/>).
/// The decoder rotates with <see cref="InverseFrequencies"/> either way (<see cref="ScaledRope"/>).
/// </summary>
public abstract record RopeFrequencyScaling
{
    /// <summary>The inverse frequency of pair <paramref name="i"/> of a <paramref name="headDim"/>-dim head before scaling: <c>theta^(-2i/D)</c>.</summary>
    public static double BaseFrequency(double theta, int i, int headDim) => Math.Pow(theta, -2.0 * i / headDim);

    /// <summary>The scaled inverse frequencies of a head of <paramref name="headDim"/> dims (one per pair).</summary>
    public abstract double[] InverseFrequencies(double theta, int headDim);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when a value is out of range for a <paramref name="headDim"/>-dim head.</summary>
    public abstract void Validate(int headDim);

    /// <summary>
    /// The per-pair divisors of the base frequencies, <c>theta^(-2i/D) / InverseFrequencies[i]</c>, in float32: what
    /// llama.cpp's converter stores as the <c>rope_freqs</c> tensor and ggml's rope divides each angle by.
    /// </summary>
    public virtual float[] FrequencyFactors(double theta, int headDim)
    {
        var inv = InverseFrequencies(theta, headDim);
        var factors = new float[inv.Length];
        for (int i = 0; i < inv.Length; i++) factors[i] = (float)(BaseFrequency(theta, i, headDim) / inv[i]);
        return factors;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Positional;

/// <summary>
/// Llama 3.1's RoPE frequency scaling (<c>rope_scaling: {"rope_type": "llama3", ...}</c> in config.json): wavelengths
/// longer than <c>original_max_position_embeddings / low_freq_factor</c> are slowed by <see cref="Factor"/>, those
/// shorter than <c>original_max_position_embeddings / high_freq_factor</c> are kept, and the band between is blended
/// linearly in <c>original / wavelength</c>. The same computation as Hugging Face transformers'
/// <c>_compute_llama3_parameters</c> (modeling_rope_utils.py) and Meta's reference <c>apply_scaling</c>.
/// </summary>
/// <param name="Factor">Slow-down of the low frequencies (<c>factor</c>, 8 for Llama 3.1).</param>
/// <param name="LowFreqFactor"><c>low_freq_factor</c> (1 for Llama 3.1).</param>
/// <param name="HighFreqFactor"><c>high_freq_factor</c> (4 for Llama 3.1).</param>
/// <param name="OriginalMaxPositions"><c>original_max_position_embeddings</c> (8192 for Llama 3.1).</param>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions) : RopeFrequencyScaling
{
    /// <inheritdoc />
    public override void Validate(int headDim) => Validate();

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when a value is out of range.</summary>
    public void Validate()
    {
        if (!(Factor > 0 && double.IsFinite(Factor))) throw new ArgumentException($"Llama3RopeScaling: factor = {Factor} must be positive.", nameof(Factor));
        if (!(LowFreqFactor > 0 && double.IsFinite(LowFreqFactor))) throw new ArgumentException($"Llama3RopeScaling: low_freq_factor = {LowFreqFactor} must be positive.", nameof(LowFreqFactor));
        if (!(HighFreqFactor > LowFreqFactor && double.IsFinite(HighFreqFactor)))
            throw new ArgumentException($"Llama3RopeScaling: high_freq_factor = {HighFreqFactor} must be finite and above low_freq_factor = {LowFreqFactor} (the blend divides by their difference).", nameof(HighFreqFactor));
        if (OriginalMaxPositions <= 0) throw new ArgumentException($"Llama3RopeScaling: original_max_position_embeddings = {OriginalMaxPositions} must be positive.", nameof(OriginalMaxPositions));
    }

    /// <summary>
    /// The scaled inverse frequencies of a head of <paramref name="headDim"/> dims (pair i: <c>theta^(-2i/D)</c> before
    /// scaling), in double, as transformers computes them in float32 from the same formula.
    /// </summary>
    public override double[] InverseFrequencies(double theta, int headDim)
    {
        Validate();
        var inv = new double[headDim / 2];
        double lowFreqWavelen = OriginalMaxPositions / LowFreqFactor, highFreqWavelen = OriginalMaxPositions / HighFreqFactor;
        for (int i = 0; i < inv.Length; i++)
        {
            double f = BaseFrequency(theta, i, headDim);
            double wavelen = 2 * Math.PI / f;
            // transformers: wavelen > low_freq_wavelen -> f / factor; then the medium band (neither above low_freq_wavelen
            // nor below high_freq_wavelen) blends f / factor and f by smooth = (original / wavelen - low) / (high - low).
            if (wavelen > lowFreqWavelen)
            {
                inv[i] = f / Factor;
            }
            else if (wavelen < highFreqWavelen)
            {
                inv[i] = f;
            }
            else
            {
                double smooth = (OriginalMaxPositions / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                inv[i] = (1 - smooth) * f / Factor + smooth * f;
            }
        }
        return inv;
    }
}

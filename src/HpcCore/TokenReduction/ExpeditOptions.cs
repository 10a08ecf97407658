// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.TokenReduction;

/// <summary>Options of <see cref="Expedit.Cluster"/>; zeros and nulls select the released defaults.</summary>
/// <param name="Iterations">Soft k-means iterations; 0 means 5.</param>
/// <param name="Temperature">tau in softmax(-tau D) and exp(-tau D); 0 means 0.01.</param>
/// <param name="Radius">Locality window radius in cells (window 5 -> 2); null means 2.</param>
/// <param name="ReconstructionK">Centres kept per token in the reconstruction weights; 0 means 20.</param>
public readonly record struct ExpeditOptions(int Iterations = 0, float Temperature = 0f, int? Radius = null, int ReconstructionK = 0)
{
    /// <summary>Default iterations.</summary>
    public const int DefaultIterations = 5;

    /// <summary>Default temperature.</summary>
    public const float DefaultTemperature = 0.01f;

    /// <summary>Default radius.</summary>
    public const int DefaultRadius = 2;

    /// <summary>Default reconstruction top-k.</summary>
    public const int DefaultReconstructionK = 20;
}

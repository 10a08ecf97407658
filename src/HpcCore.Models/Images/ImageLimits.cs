// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

/// <summary>
/// Bounds on an untrusted image, checked from its header before the decoder allocates anything (see
/// docs/HARDENING.md). The defaults are far above any ViT input and keep one decode under ~200 MB.
/// </summary>
/// <param name="MaxBytes">Largest accepted encoded file.</param>
/// <param name="MaxPixels">Largest accepted width x height.</param>
/// <param name="MaxJpegScans">Most scans a (progressive) JPEG may have: each one walks every block again.</param>
public sealed record ImageLimits(long MaxBytes = 64L << 20, long MaxPixels = 16L << 20, int MaxJpegScans = 64)
{
    /// <summary>64 MiB files, 16 megapixels (4096 x 4096), 64 JPEG scans.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a bound is not positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes, nameof(MaxBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixels, nameof(MaxPixels));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxJpegScans, nameof(MaxJpegScans));
    }
}

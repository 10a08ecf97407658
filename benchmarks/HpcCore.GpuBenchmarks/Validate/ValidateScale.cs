// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

/// <summary>How large the validation shapes are.</summary>
public enum ValidateScale
{
    /// <summary>Tiny shapes (ILGPU's CPU emulator, or compute-sanitizer runs).</summary>
    Small,

    /// <summary>
    /// Real model shapes at one image or sequence: 197, 577 and 2,880 tokens, decode over 4,096 keys. For OpenCL on the
    /// host CPU (pocl), where the full set would take an hour on two cores.
    /// </summary>
    Medium,

    /// <summary>ViT-B/16 batches and the long-context shapes of issue #8 (16,384 and 32,768 tokens): a GPU.</summary>
    Full,
}

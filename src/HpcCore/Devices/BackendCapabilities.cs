// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>What a backend's device offers; kernels and launchers read it to pick variants and group sizes.</summary>
/// <param name="WarpSize">Threads per warp (1 on the SIMD CPU backend).</param>
/// <param name="MaxGroupSize">Largest thread group a kernel may launch with.</param>
/// <param name="SharedMemoryPerGroup">Bytes of shared memory one group may use.</param>
/// <param name="SupportsF16">Whether half-precision arithmetic runs natively.</param>
/// <param name="SimdWidthBits">Vector register width used by the CPU kernels (512, 256 or 128); 0 on GPUs.</param>
/// <param name="Cores">CPU cores used, or GPU multiprocessors.</param>
/// <param name="MemoryBytes">Device memory in bytes (host memory for the CPU).</param>
public readonly record struct BackendCapabilities(
    int WarpSize,
    int MaxGroupSize,
    int SharedMemoryPerGroup,
    bool SupportsF16,
    int SimdWidthBits,
    int Cores,
    long MemoryBytes);

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>What kind of processor a backend runs on.</summary>
public enum DeviceKind
{
    /// <summary>The host CPU, through HpcCore's hand-written SIMD backend.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA runtime.</summary>
    Cuda,
    /// <summary>A GPU through ILGPU's OpenCL runtime.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: a slow emulator of GPU execution, for tests only.</summary>
    IlgpuCpu,
}

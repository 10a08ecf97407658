// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models;

using HpcCore.Devices;
using Microsoft.Extensions.Logging;

/// <summary>
/// The device a model pipeline (ViT, decoder LM) runs on: the best one <see cref="HpcRuntime"/> finds (a CUDA GPU, then an OpenCL GPU
/// through the ILGPU backend when its assembly is deployed, else the SIMD CPU backend; never the ILGPU CPU
/// emulator unless asked), with <c>HPCCORE_DEVICE</c> (cpu, cuda, opencl, ilgpu-cpu) overriding the choice.
/// </summary>
public static class ModelDevice
{
    /// <summary>
    /// Opens the best device with <paramref name="cpuThreads"/> worker threads should it be the CPU (0: every core).
    /// <paramref name="configure"/> (optional) adds providers or preferences before the environment override applies;
    /// <paramref name="logger"/> (optional) is told which device was chosen and why.
    /// </summary>
    public static IBackend OpenBest(int cpuThreads = 0, Action<HpcRuntimeBuilder>? configure = null, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpuThreads);
        var backend = HpcRuntime.Create(b =>
        {
            b.CpuThreads = cpuThreads;
            configure?.Invoke(b);
        });
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            string device = Describe(backend);
            ModelLog.DeviceChosen(logger, device);
        }
        return backend;
    }

    /// <summary>One line for logs: the device, how many CPU threads, and what chose it.</summary>
    public static string Describe(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        string how = Environment.GetEnvironmentVariable("HPCCORE_DEVICE") is { Length: > 0 } env
            ? $"HPCCORE_DEVICE={env}" : "best device found";
        string what = backend.Capabilities.SimdWidthBits > 0
            ? $"{backend.Device} ({backend.Capabilities.Cores} threads)"
            : backend.Device.ToString();
        return $"{what}; {how}";
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Discovery and creation of ILGPU backends, and the hooks that plug them into HpcRuntime.
using System.Runtime.CompilerServices;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace HpcCore.Gpu;

using HpcCore.Devices;

/// <summary>
/// Lists and opens ILGPU devices: CUDA devices first, then OpenCL GPUs with warp shuffles (Intel sub-groups), and ILGPU's CPU emulator
/// (<see cref="DeviceKind.IlgpuCpu"/>, 32-thread warps) only when emulators are requested.
/// </summary>
public sealed class IlgpuBackendProvider : IBackendProvider
{
    /// <summary>The provider registered with <see cref="HpcRuntime"/>.</summary>
    public static IlgpuBackendProvider Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "ilgpu";

    /// <inheritdoc/>
    public IReadOnlyList<Device> Discover(bool includeEmulators)
    {
        var devices = new List<Device>();
        foreach (var (kind, ordinal, device) in Enumerate())
        {
            if (kind == DeviceKind.IlgpuCpu && !includeEmulators) continue;
            devices.Add(new Device(kind, ordinal, device.Name));
        }
        return devices;
    }

    /// <inheritdoc/>
    public IBackend Create(Device device)
    {
        foreach (var (kind, ordinal, ilgpuDevice) in Enumerate())
        {
            if (kind == device.Kind && ordinal == device.Ordinal)
                return new IlgpuBackend(ilgpuDevice.CreateAccelerator(IlgpuRuntime.Context), device with { Name = ilgpuDevice.Name });
        }
        throw new ArgumentException($"IlgpuBackendProvider.Create: no ILGPU device {device} here.", nameof(device));
    }

    /// <summary>Opens a backend on ILGPU's CPU emulator (32-thread warps). For tests only: it is very slow.</summary>
    public static IlgpuBackend CreateEmulator() =>
        (IlgpuBackend)Instance.Create(new Device(DeviceKind.IlgpuCpu, 0, IlgpuRuntime.EmulatorDevice.Name));

    // ILGPU 1.5.3 lowers Warp.Shuffle* on OpenCL only through Intel's sub-group extension; the row kernels (softmax,
    // norms, argmax) need shuffles, so other OpenCL GPUs are not offered (the SIMD CPU backend is used instead).
    private static bool SupportsWarpShuffles(CLDevice device) =>
        device.Vendor == CLDeviceVendor.Intel && device.Capabilities is CLCapabilityContext { SubGroups: true };

    private static List<(DeviceKind Kind, int Ordinal, ILGPU.Runtime.Device Device)> Enumerate()
    {
        var context = IlgpuRuntime.Context;
        var list = new List<(DeviceKind, int, ILGPU.Runtime.Device)>();
        int ordinal = 0;
        foreach (var cuda in context.GetCudaDevices()) list.Add((DeviceKind.Cuda, ordinal++, cuda));
        ordinal = 0;
        foreach (var cl in context.GetCLDevices())
        {
            if (cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU && SupportsWarpShuffles(cl)) list.Add((DeviceKind.OpenCL, ordinal++, cl));
        }
        ordinal = 0;
        foreach (var cpu in context.GetCPUDevices()) list.Add((DeviceKind.IlgpuCpu, ordinal++, cpu));
        return list;
    }
}

/// <summary>Registers the ILGPU provider with <see cref="HpcRuntime"/> and offers <see cref="UseIlgpu"/>.</summary>
public static class IlgpuRegistration
{
    /// <summary>
    /// Runs when the assembly loads (HpcRuntime loads it by name): installs the libcuda.so.1 / libOpenCL.so.1
    /// fallback and registers the provider. Cheap: no ILGPU context is created until devices are listed.
    /// </summary>
#pragma warning disable CA2255 // A module initializer is exactly how an optional backend announces itself.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        NativeLibraryFallback.Install();
        HpcRuntime.Register(IlgpuBackendProvider.Instance);
    }

    /// <summary>Adds the ILGPU provider (CUDA, OpenCL, and the emulator when preferred explicitly).</summary>
    public static HpcRuntimeBuilder UseIlgpu(this HpcRuntimeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddProvider(IlgpuBackendProvider.Instance);
    }
}

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
/// Lists and opens ILGPU devices: CUDA devices first, then every OpenCL device (those ILGPU cannot drive listed with
/// the reason, see <see cref="OpenCLSupport"/>; CPU-type ones such as pocl opened only on request), and ILGPU's CPU
/// emulator (<see cref="DeviceKind.IlgpuCpu"/>, 32-thread warps) only when emulators are requested.
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
        foreach (var (device, _) in Enumerate())
        {
            if (device.Kind == DeviceKind.IlgpuCpu && !includeEmulators) continue;
            devices.Add(device);
        }
        return devices;
    }

    /// <inheritdoc/>
    public IBackend Create(Device device)
    {
        foreach (var (found, ilgpuDevice) in Enumerate())
        {
            if (found.Kind != device.Kind || found.Ordinal != device.Ordinal) continue;
            if (found.Unusable is { } why)
                throw new NotSupportedException($"IlgpuBackendProvider.Create: {found} is not usable: {why}");
            return new IlgpuBackend(ilgpuDevice.CreateAccelerator(IlgpuRuntime.Context), found);
        }
        throw new ArgumentException($"IlgpuBackendProvider.Create: no ILGPU device {device} here.", nameof(device));
    }

    /// <summary>
    /// Opens a backend on ILGPU's CPU emulator (32-thread warps). For tests only: it is very slow.
    /// <paramref name="warpShuffles"/> false makes its reducing kernels use the shared-memory form that OpenCL devices
    /// without warp shuffles (pocl) run, so that form is tested without such a device.
    /// </summary>
    public static IlgpuBackend CreateEmulator(bool warpShuffles = true)
    {
        var device = new Device(DeviceKind.IlgpuCpu, 0, IlgpuRuntime.EmulatorDevice.Name);
        return new IlgpuBackend(IlgpuRuntime.EmulatorDevice.CreateAccelerator(IlgpuRuntime.Context), device, true, warpShuffles);
    }

    /// <summary>
    /// Opens the first usable device of <paramref name="kind"/> (CUDA, or OpenCL including on-request ones such as
    /// pocl), or null when there is none.
    /// </summary>
    public static IlgpuBackend? CreateFirst(DeviceKind kind)
    {
        foreach (var device in Instance.Discover(includeEmulators: false))
            if (device.Kind == kind && device.Unusable is null) return (IlgpuBackend)Instance.Create(device);
        return null;
    }

    private static List<(Device Device, ILGPU.Runtime.Device Ilgpu)> Enumerate()
    {
        var context = IlgpuRuntime.Context;
        var list = new List<(Device, ILGPU.Runtime.Device)>();
        int ordinal = 0;
        foreach (var cuda in context.GetCudaDevices()) list.Add((new Device(DeviceKind.Cuda, ordinal++, cuda.Name), cuda));
        ordinal = 0;
        foreach (var cl in context.GetCLDevices())
        {
            var device = new Device(DeviceKind.OpenCL, ordinal++, cl.Name)
            {
                OnRequest = cl.DeviceType != CLDeviceType.CL_DEVICE_TYPE_GPU,
                Unusable = OpenCLSupport.WhyUnusable(cl),
            };
            list.Add((device, cl));
        }
        ordinal = 0;
        foreach (var cpu in context.GetCPUDevices()) list.Add((new Device(DeviceKind.IlgpuCpu, ordinal++, cpu.Name), cpu));
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

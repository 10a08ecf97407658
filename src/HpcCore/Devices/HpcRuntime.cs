// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

using System.Reflection;
using System.Runtime.CompilerServices;

/// <summary>
/// Opens backends. <see cref="CreateDefault"/> picks the best device found: a CUDA GPU, then an OpenCL GPU
/// (when the HpcCore.Gpu assembly is present), else the SIMD CPU backend. It never picks ILGPU's CPU emulator.
/// The environment variable <c>HPCCORE_DEVICE</c> (cpu, cuda, opencl, ilgpu-cpu) overrides the choice.
/// </summary>
public static class HpcRuntime
{
    private static readonly List<IBackendProvider> Registered = [];
    private static readonly Lock Gate = new();
    private static bool _optionalLoaded;

    /// <summary>Providers registered so far (the ILGPU one registers itself when its assembly loads).</summary>
    public static IReadOnlyList<IBackendProvider> Providers
    {
        get
        {
            LoadOptionalProviders();
            lock (Gate) return Registered.ToArray();
        }
    }

    /// <summary>Registers a provider for every later <see cref="Create"/> and <see cref="CreateDefault"/>.</summary>
    public static void Register(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate)
        {
            if (!Registered.Any(p => p.Name == provider.Name)) Registered.Add(provider);
        }
    }

    /// <summary>Opens the best available backend (see the type's remarks).</summary>
    public static IBackend CreateDefault() => Create(_ => { });

    /// <summary>Opens a backend configured by <paramref name="configure"/>.</summary>
    public static IBackend Create(Action<HpcRuntimeBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new HpcRuntimeBuilder(Providers);
        var overrideKind = ParseDeviceOverride(Environment.GetEnvironmentVariable("HPCCORE_DEVICE"));
        configure(builder);
        if (overrideKind is { } kind) builder.Prefer(kind);
        return builder.Build();
    }

    /// <summary>Every device the registered providers can open, plus the CPU.</summary>
    public static IReadOnlyList<Device> ListDevices(bool includeEmulators = false)
    {
        var devices = new List<Device>();
        foreach (var p in Providers) devices.AddRange(p.Discover(includeEmulators));
        devices.Add(Cpu.CpuBackend.DescribeDevice());
        return devices;
    }

    private static DeviceKind? ParseDeviceOverride(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "cpu" => DeviceKind.Cpu,
        "cuda" => DeviceKind.Cuda,
        "opencl" => DeviceKind.OpenCL,
        "ilgpu-cpu" => DeviceKind.IlgpuCpu,
        var other => throw new DeviceException(
            $"HpcRuntime: HPCCORE_DEVICE='{other}' is not one of cpu, cuda, opencl, ilgpu-cpu."),
    };

    // The GPU backend is an optional assembly next to ours. Loading it runs its module initializer,
    // which registers its provider; under NativeAOT (no dynamic code) ILGPU cannot run, so we skip it.
    private static void LoadOptionalProviders()
    {
        lock (Gate)
        {
            if (_optionalLoaded) return;
            _optionalLoaded = true;
        }
        if (!RuntimeFeature.IsDynamicCodeSupported) return;
        try
        {
            var asm = Assembly.Load("HpcCore.Gpu");
            RuntimeHelpers.RunModuleConstructor(asm.ManifestModule.ModuleHandle);
        }
        catch (FileNotFoundException)
        {
            // Not deployed: CPU only.
        }
    }
}

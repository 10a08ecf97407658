// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

using HpcCore.Cpu;

/// <summary>Configures which backend <see cref="HpcRuntime.Create"/> opens.</summary>
public sealed class HpcRuntimeBuilder
{
    private readonly List<IBackendProvider> _providers = [];
    private DeviceKind[] _preference = [DeviceKind.Cuda, DeviceKind.OpenCL, DeviceKind.Cpu];
    private bool _named;

    internal HpcRuntimeBuilder(IEnumerable<IBackendProvider> registered) => _providers.AddRange(registered);

    /// <summary>Threads for the CPU backend; 0 uses every core.</summary>
    public int CpuThreads { get; set; }

    /// <summary>Adds a backend provider (the ILGPU package adds itself through <c>UseIlgpu()</c>).</summary>
    public HpcRuntimeBuilder AddProvider(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (!_providers.Any(p => p.Name == provider.Name)) _providers.Add(provider);
        return this;
    }

    /// <summary>
    /// Sets the order in which device kinds are tried. <see cref="DeviceKind.IlgpuCpu"/> is only ever chosen
    /// when it is named here, since it is an emulator thousands of times slower than the CPU backend.
    /// </summary>
    public HpcRuntimeBuilder Prefer(params DeviceKind[] kinds)
    {
        if (kinds.Length == 0) throw new ArgumentException("HpcRuntimeBuilder.Prefer: at least one device kind is required.", nameof(kinds));
        _preference = kinds;
        _named = true;
        return this;
    }

    internal IBackend Build()
    {
        bool emulatorAllowed = _preference.Contains(DeviceKind.IlgpuCpu);
        var passedOver = new List<string>();
        foreach (var kind in _preference)
        {
            if (kind == DeviceKind.Cpu) return new CpuBackend(CpuThreads);
            foreach (var provider in _providers)
            {
                foreach (var device in provider.Discover(emulatorAllowed))
                {
                    if (device.Kind != kind) continue;
                    if (device.Unusable is { } why) passedOver.Add($"{device} not usable: {why}");
                    else if (!device.OnRequest || _named) return provider.Create(device);
                }
            }
        }
        throw new DeviceException(
            $"HpcRuntime: no usable device of the requested kinds ({string.Join(", ", _preference)}) was found; " +
            $"providers: {(_providers.Count == 0 ? "none" : string.Join(", ", _providers.Select(p => p.Name)))}" +
            (passedOver.Count == 0 ? "." : $"; {string.Join("; ", passedOver)}."));
    }
}

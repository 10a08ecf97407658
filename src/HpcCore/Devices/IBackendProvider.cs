// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>
/// A source of backends that plugs into <see cref="HpcRuntime"/> (the ILGPU backend lives in another
/// assembly so that the core stays free of ILGPU and AOT-compatible).
/// </summary>
public interface IBackendProvider
{
    /// <summary>Short name used in logs and by <c>HPCCORE_DEVICE</c> (e.g. "ilgpu").</summary>
    string Name { get; }

    /// <summary>Devices this provider can open here, best first. Never includes emulators unless asked.</summary>
    IReadOnlyList<Device> Discover(bool includeEmulators);

    /// <summary>Opens a backend on <paramref name="device"/>.</summary>
    IBackend Create(Device device);
}

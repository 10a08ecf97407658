// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>A device: its kind, its ordinal among devices of that kind, and a readable name.</summary>
/// <param name="Kind">Processor kind.</param>
/// <param name="Ordinal">Index among devices of the same kind.</param>
/// <param name="Name">Human-readable name (e.g. the GPU model).</param>
public readonly record struct Device(DeviceKind Kind, int Ordinal, string Name)
{
    /// <summary>
    /// Opened only when its kind is asked for by name (<c>HPCCORE_DEVICE</c> or <see cref="HpcRuntimeBuilder.Prefer"/>),
    /// never by the default choice: an OpenCL runtime on the host CPU (pocl) is slower than the SIMD CPU backend.
    /// </summary>
    public bool OnRequest { get; init; }

    /// <summary>
    /// Why the device cannot be opened, or null when it can. Such devices are still listed, so that a device choice
    /// can say why it passed one over instead of hiding it.
    /// </summary>
    public string? Unusable { get; init; }

    /// <summary>Formats as <c>cuda:0 (NVIDIA H100)</c>.</summary>
    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()}:{Ordinal} ({Name})";
}

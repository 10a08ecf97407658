// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>A device: its kind, its ordinal among devices of that kind, and a readable name.</summary>
/// <param name="Kind">Processor kind.</param>
/// <param name="Ordinal">Index among devices of the same kind.</param>
/// <param name="Name">Human-readable name (e.g. the GPU model).</param>
public readonly record struct Device(DeviceKind Kind, int Ordinal, string Name)
{
    /// <summary>Formats as <c>cuda:0 (NVIDIA H100)</c>.</summary>
    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()}:{Ordinal} ({Name})";
}

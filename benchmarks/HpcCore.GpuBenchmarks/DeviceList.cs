// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks devices`: one line per device HpcCore sees, with whether it can be opened: "usable",
// "on request" (opened only when its kind is named, e.g. pocl on the host CPU) or "not usable: <why>". build.sh uses
// it to decide whether the OpenCL test tier runs.
namespace HpcCore.GpuBenchmarks;

using HpcCore.Devices;
using HpcCore.Gpu;

/// <summary>Lists the devices and their status.</summary>
public static class DeviceList
{
    /// <summary>Writes the list to <paramref name="output"/>; returns 0.</summary>
    public static int Run(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        HpcRuntime.Register(IlgpuBackendProvider.Instance);
        foreach (var device in HpcRuntime.ListDevices())
        {
            string status = device.Unusable is { } why ? $"not usable: {why}" : device.OnRequest ? "usable (on request)" : "usable";
            output.WriteLine($"{device} {status}");
        }
        return 0;
    }
}

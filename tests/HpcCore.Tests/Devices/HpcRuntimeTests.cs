// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Devices;

using HpcCore.Cpu;
using HpcCore.Devices;
using Xunit;

public sealed class HpcRuntimeTests
{
    [Fact]
    public void CreateDefault_WithoutAGpu_ReturnsTheSimdCpuBackend()
    {
        // This test project does not deploy HpcCore.Gpu, so only the CPU can be found.
        using var backend = HpcRuntime.CreateDefault();
        Assert.IsType<CpuBackend>(backend);
        Assert.Equal(DeviceKind.Cpu, backend.Device.Kind);
        Assert.True(backend.Capabilities.Cores >= 1);
        Assert.Equal(CpuBackend.SimdWidthBits, backend.Capabilities.SimdWidthBits);
    }

    [Fact]
    public void Create_WithOnlyUnavailableKinds_ThrowsNamingThem()
    {
        var e = Assert.Throws<DeviceException>(() => HpcRuntime.Create(b => b.Prefer(DeviceKind.Cuda)));
        Assert.Contains("Cuda", e.Message);
    }

    [Fact]
    public void ListDevices_IncludesTheCpu() =>
        Assert.Contains(HpcRuntime.ListDevices(), d => d.Kind == DeviceKind.Cpu);
}

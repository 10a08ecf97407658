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

    [Fact]
    public void OnRequestDevice_IsOpenedOnlyWhenItsKindIsNamed()
    {
        var provider = new FakeProvider(new Device(DeviceKind.OpenCL, 0, "pocl on the host") { OnRequest = true });
        using (var chosen = HpcRuntime.Create(b => b.AddProvider(provider)))
            Assert.IsType<CpuBackend>(chosen);
        Assert.Null(provider.Opened);
        using (HpcRuntime.Create(b => b.AddProvider(provider).Prefer(DeviceKind.OpenCL)))
            Assert.Equal("pocl on the host", provider.Opened?.Name);
    }

    [Fact]
    public void UnusableDevice_IsPassedOver_AndTheReasonIsInTheError()
    {
        var provider = new FakeProvider(new Device(DeviceKind.OpenCL, 0, "old runtime") { Unusable = "lacks the generic address space" });
        using (var chosen = HpcRuntime.Create(b => b.AddProvider(provider)))
            Assert.IsType<CpuBackend>(chosen);
        var e = Assert.Throws<DeviceException>(() => HpcRuntime.Create(b => b.AddProvider(provider).Prefer(DeviceKind.OpenCL)));
        Assert.Contains("opencl:0 (old runtime) not usable: lacks the generic address space", e.Message, StringComparison.Ordinal);
        Assert.Null(provider.Opened);
    }

    private sealed class FakeProvider(params Device[] devices) : IBackendProvider
    {
        public string Name => "fake-opencl";

        public Device? Opened { get; private set; }

        public IReadOnlyList<Device> Discover(bool includeEmulators) => devices;

        public IBackend Create(Device device)
        {
            Opened = device;
            return new CpuBackend(1);
        }
    }
}

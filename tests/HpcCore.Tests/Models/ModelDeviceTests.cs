// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `hpccore vit eval`'s device choice (ModelDevice): a GPU when a provider finds one (CUDA before OpenCL), never the ILGPU
// emulator unless asked, the CPU with the requested threads otherwise, and HPCCORE_DEVICE overriding all of it. No GPU
// here, so a fake provider stands in for the ILGPU one; the backend it "opens" is a CPU backend it remembers.
namespace HpcCore.Tests.Models;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Models;
using HpcCore.Models.Vit;
using Xunit;

[Collection(EnvironmentGroup.Name)]
public sealed class ModelDeviceTests
{
    [Fact]
    public void NoGpu_OpensTheCpuWithTheRequestedThreads()
    {
        using var backend = ModelDevice.OpenBest(cpuThreads: 1);
        var cpu = Assert.IsType<CpuBackend>(backend);
        Assert.Equal(1, cpu.Pool.Threads);
        string line = ModelDevice.Describe(backend);
        Assert.Contains("1 threads", line);
        Assert.Contains("best device found", line);
    }

    [Theory]
    [InlineData(new[] { DeviceKind.OpenCL, DeviceKind.Cuda }, DeviceKind.Cuda)]
    [InlineData(new[] { DeviceKind.OpenCL }, DeviceKind.OpenCL)]
    [InlineData(new[] { DeviceKind.IlgpuCpu, DeviceKind.OpenCL }, DeviceKind.OpenCL)]
    public void Gpu_IsPreferred_CudaFirst_NeverTheEmulator(DeviceKind[] found, DeviceKind expected)
    {
        var fake = new FakeProvider(found);
        using var backend = ModelDevice.OpenBest(cpuThreads: 1, b => b.AddProvider(fake));
        Assert.Equal(expected, fake.Opened?.Kind);
        Assert.Same(fake.Backend, backend);
    }

    [Fact]
    public void EmulatorOnly_FallsBackToTheCpu()
    {
        var fake = new FakeProvider([DeviceKind.IlgpuCpu]);
        using var backend = ModelDevice.OpenBest(cpuThreads: 1, b => b.AddProvider(fake));
        Assert.IsType<CpuBackend>(backend);
        Assert.Null(fake.Opened);
    }

    [Fact]
    public void EnvironmentOverride_Wins()
    {
        var fake = new FakeProvider([DeviceKind.Cuda]);
        Environment.SetEnvironmentVariable("HPCCORE_DEVICE", "cpu");
        try
        {
            using var backend = ModelDevice.OpenBest(cpuThreads: 1, b => b.AddProvider(fake));
            Assert.IsType<CpuBackend>(backend);
            Assert.Null(fake.Opened);
            Assert.Contains("HPCCORE_DEVICE=cpu", ModelDevice.Describe(backend));
        }
        finally
        {
            Environment.SetEnvironmentVariable("HPCCORE_DEVICE", null);
        }
    }

    private sealed class FakeProvider(DeviceKind[] kinds) : IBackendProvider
    {
        public string Name => "fake";

        public Device? Opened { get; private set; }

        public CpuBackend? Backend { get; private set; }

        public IReadOnlyList<Device> Discover(bool includeEmulators) =>
            [.. kinds.Where(k => includeEmulators || k != DeviceKind.IlgpuCpu).Select((k, i) => new Device(k, i, $"fake {k}"))];

        public IBackend Create(Device device)
        {
            Opened = device;
            return Backend = new CpuBackend(1);
        }
    }
}

/// <summary>Tests that set process environment variables run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentGroup
{
    /// <summary>The collection name.</summary>
    public const string Name = "Environment";
}

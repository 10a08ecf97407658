// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU backend as a backend: discovery and selection through HpcRuntime, transfers, pooling, and front-door
// rejection of tensors that live on different backends.
namespace HpcCore.Gpu.Tests;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>Provider, runtime selection, transfers and pool behaviour on this (GPU-less) machine.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuBackendTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Discover_WithoutEmulators_ListsNoEmulator()
    {
        var devices = IlgpuBackendProvider.Instance.Discover(includeEmulators: false);
        Assert.DoesNotContain(devices, d => d.Kind == DeviceKind.IlgpuCpu);
        Assert.All(devices, d => Assert.True(d.Kind is DeviceKind.Cuda or DeviceKind.OpenCL));
    }

    [Fact]
    public void Discover_WithEmulators_ListsExactlyOneIlgpuCpuDevice()
    {
        var devices = IlgpuBackendProvider.Instance.Discover(includeEmulators: true);
        Assert.Single(devices, d => d.Kind == DeviceKind.IlgpuCpu);
        // CUDA devices come first, then OpenCL, then the emulator.
        var order = devices.Select(d => d.Kind switch { DeviceKind.Cuda => 0, DeviceKind.OpenCL => 1, _ => 2 }).ToArray();
        Assert.Equal(order.Order().ToArray(), order);
    }

    [Fact]
    public void HpcRuntime_RegistersTheProvider_FromTheModuleInitializer()
    {
        Assert.Contains(HpcRuntime.Providers, p => p.Name == "ilgpu");
    }

    [Fact]
    public void CreateDefault_OnAMachineWithoutGpu_ReturnsTheCpuBackend()
    {
        if (Environment.GetEnvironmentVariable("HPCCORE_DEVICE") is { Length: > 0 }) return; // an override is in force
        if (IlgpuBackendProvider.Instance.Discover(false).Count > 0) return;               // a real GPU is present
        using var backend = HpcRuntime.CreateDefault();
        Assert.IsType<CpuBackend>(backend);
        Assert.Equal(DeviceKind.Cpu, backend.Device.Kind);
    }

    [Fact]
    public void Create_PreferringIlgpuCpu_ReturnsAnEmulatorBackend()
    {
        using var backend = HpcRuntime.Create(b => b.UseIlgpu().Prefer(DeviceKind.IlgpuCpu));
        var ilgpu = Assert.IsType<IlgpuBackend>(backend);
        Assert.True(ilgpu.IsEmulator);
        Assert.Equal(DeviceKind.IlgpuCpu, backend.Device.Kind);
        Assert.Equal(32, backend.Capabilities.WarpSize);
        Assert.True(backend.Capabilities.MaxGroupSize >= 32);
        Assert.True(backend.Capabilities.SharedMemoryPerGroup > 0);
    }

    [Fact]
    public void Capabilities_DescribeTheEmulator()
    {
        var caps = fixture.Backend.Capabilities;
        Assert.Equal(32, caps.WarpSize);
        Assert.Equal(256, caps.MaxGroupSize);
        Assert.Equal(0, caps.SimdWidthBits);
        Assert.Equal(32, fixture.Backend.Policy.ElementwiseGroupSize);
        Assert.Equal(32, fixture.Backend.Policy.RowGroupSize(1000));
    }

    [Fact]
    public void To_CpuToEmulatorToCpu_RoundTripsValuesAndViews()
    {
        var data = TestData.Uniform(2 * 3 * 5, 1);
        using var cpu = Tensor.From<float>(data, new Shape(2, 3, 5), fixture.Cpu);
        using var onGpu = cpu.To(fixture.Backend);
        Assert.Same(fixture.Backend, onGpu.Backend);
        using var back = onGpu.To(fixture.Cpu);
        Assert.Equal(data, back.ToArray<float>());
        // A strided view on the emulator goes through the CopyStrided kernel on its way back.
        using var permuted = onGpu.Permute(2, 0, 1);
        using var permutedBack = permuted.To(fixture.Cpu);
        using var expected = cpu.Permute(2, 0, 1);
        Assert.Equal(expected.ToArray<float>(), permutedBack.ToArray<float>());
    }

    [Fact]
    public void CopyStrided_AllElementSizes_MatchTheCpuBackend()
    {
        var bytes = new byte[4 * 6 * 8];
        new Random(3).NextBytes(bytes);
        foreach (var dtype in new[] { DType.U8, DType.F16, DType.I32, DType.I64 })
        {
            int n = bytes.Length / dtype.SizeInBytes();
            var shape = new Shape(2, n / 6, 3);
            using var cpu = Tensor.FromBytes(bytes.AsSpan(0, n * dtype.SizeInBytes()), shape, dtype, fixture.Cpu);
            using var gpu = Tensor.FromBytes(bytes.AsSpan(0, n * dtype.SizeInBytes()), shape, dtype, fixture.Backend);
            using var cpuPermuted = cpu.Permute(1, 2, 0);
            using var gpuPermuted = gpu.Permute(1, 2, 0);
            using var cpuView = cpuPermuted.Narrow(0, 1, n / 6 - 1);
            using var gpuView = gpuPermuted.Narrow(0, 1, n / 6 - 1);
            using var cpuCopy = cpuView.Contiguous();
            using var gpuCopy = gpuView.Contiguous();
            Assert.Equal(ReadBytes(fixture.Cpu, cpuCopy), ReadBytes(fixture.Backend, gpuCopy));
        }
    }

    [Fact]
    public void RepeatedOps_InSteadyState_AllocateNoNewDeviceBuffers()
    {
        var backend = fixture.Backend;
        var x = TestData.Uniform(4 * 33, 2);
        void Step()
        {
            using var t = Tensor.From<float>(x, new Shape(4, 33), backend);
            using var s = Softmax.Forward(t);
            using var g = Activations.Gelu(s);
            backend.Synchronize();
        }
        Step();
        Step();
        long fresh = backend.Memory.FreshAllocations;
        long live = backend.Memory.LiveBuffers;
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(fresh, backend.Memory.FreshAllocations);
        Assert.Equal(live, backend.Memory.LiveBuffers);
    }

    [Fact]
    public void Ops_GivenTensorsOnDifferentBackends_ThrowArgumentExceptionNamingTheOp()
    {
        var data = TestData.Uniform(2 * 8, 3);
        using var onCpu = Tensor.From<float>(data, new Shape(2, 8), fixture.Cpu);
        using var onGpu = Tensor.From<float>(data, new Shape(2, 8), fixture.Backend);
        using var gamma = Tensor.From<float>(new float[8], new Shape(8), fixture.Cpu);
        using var square = Tensor.From<float>(new float[64], new Shape(8, 8), fixture.Cpu);
        AssertNamesOp("Elementwise.Add", () => Elementwise.Add(onGpu, onCpu));
        AssertNamesOp("Elementwise.Multiply", () => Elementwise.Multiply(onCpu, onGpu));
        AssertNamesOp("Activations.SwiGlu", () => Activations.SwiGlu(onGpu, onCpu));
        AssertNamesOp("Norms.RmsNorm", () => Norms.RmsNorm(onGpu, gamma));
        AssertNamesOp("Gemm.Multiply", () => Gemm.Multiply(onGpu, square));
        using var destination = Tensor.Zeros(new Shape(2, 8), DType.F32, fixture.Cpu);
        AssertNamesOp("Softmax.Forward", () => Softmax.Forward(onGpu, destination));
        AssertNamesOp("Tensor.CopyTo", () => onGpu.CopyTo(destination));
    }

    [Fact]
    public void EmptyTensors_AllocateCopyAndRunOps_WithoutLaunching()
    {
        using var empty = Tensor.Zeros(new Shape(0, 4), DType.F32, fixture.Backend);
        using var s = Softmax.Forward(empty);
        using var back = s.To(fixture.Cpu);
        Assert.Empty(back.ToArray<float>());
    }

    [Fact]
    public void Storage_FromAnotherBackend_IsRejectedByTransfers()
    {
        using var onCpu = Tensor.From<float>([1f, 2f], new Shape(2), fixture.Cpu);
        Assert.Throws<ArgumentException>(() => fixture.Backend.CopyToHost(onCpu.Storage, 0, new byte[8]));
    }

    private static void AssertNamesOp(string op, Action call)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Contains(op, ex.Message, StringComparison.Ordinal);
    }

    private static byte[] ReadBytes(IBackend backend, Tensor t)
    {
        backend.Synchronize();
        var result = new byte[t.ElementCount * t.DType.SizeInBytes()];
        backend.CopyToHost(t.Storage, t.ByteOffset, result);
        return result;
    }
}

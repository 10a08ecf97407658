// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One OpenCL backend shared by every test class of the tier: pocl compiles each kernel once per accelerator (LLVM,
// about a second each), so sharing it keeps the tier within its time budget.
namespace HpcCore.OpenCL.Tests;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Gpu;

/// <summary>The first usable OpenCL device, plus a CPU backend for parity checks.</summary>
public sealed class OpenCLFixture : IDisposable
{
    /// <summary>Opens the device; the tier is run only where one exists (build.sh checks), so none is a failure.</summary>
    public OpenCLFixture()
    {
        Backend = IlgpuBackendProvider.CreateFirst(DeviceKind.OpenCL)
            ?? throw new InvalidOperationException("No usable OpenCL device: run ./build.sh setup-opencl (pocl 6) and set OCL_ICD_VENDORS as it prints.");
        Cpu = new CpuBackend();
    }

    /// <summary>The OpenCL backend under test.</summary>
    public IlgpuBackend Backend { get; }

    /// <summary>The SIMD CPU backend, the reference for parity checks.</summary>
    public CpuBackend Cpu { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Backend.Dispose();
        Cpu.Dispose();
    }
}

/// <summary>Test classes that share the OpenCL device (run one at a time: one command queue).</summary>
[CollectionDefinition(Name)]
public sealed class OpenCLGroup : ICollectionFixture<OpenCLFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "OpenCL";
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One ILGPU CPU-emulator backend (32-thread warps) shared by every test class of the collection: the emulator
// compiles each kernel once per accelerator, so sharing it keeps the suite within its time budget.
namespace HpcCore.Gpu.Tests;

using HpcCore.Cpu;

/// <summary>The shared emulator backend, plus a CPU backend for parity checks.</summary>
public sealed class IlgpuCpuFixture : IDisposable
{
    /// <summary>Opens the emulator through the provider (as HpcRuntime would when IlgpuCpu is preferred).</summary>
    public IlgpuCpuFixture()
    {
        Backend = IlgpuBackendProvider.CreateEmulator();
        TreeReduce = IlgpuBackendProvider.CreateEmulator(warpShuffles: false);
        Cpu = new CpuBackend(1);
    }

    /// <summary>ILGPU's CPU accelerator with 32-thread warps.</summary>
    public IlgpuBackend Backend { get; }

    /// <summary>The emulator with the shared-memory reductions that OpenCL devices without warp shuffles (pocl) run.</summary>
    public IlgpuBackend TreeReduce { get; }

    /// <summary>The SIMD CPU backend, the reference for bit-exact parity tests.</summary>
    public CpuBackend Cpu { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Backend.Dispose();
        TreeReduce.Dispose();
        Cpu.Dispose();
    }
}

/// <summary>Test classes that run on the shared emulator.</summary>
[CollectionDefinition(Name)]
public sealed class IlgpuCpuGroup : ICollectionFixture<IlgpuCpuFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "IlgpuCpu";
}

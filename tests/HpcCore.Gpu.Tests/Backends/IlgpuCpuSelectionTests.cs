// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The selection conformance bodies on ILGPU's CPU emulator at tiny shapes (index outputs compared exactly).
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Testing;
using HpcCore.Testing.Conformance;

/// <summary><see cref="SelectionConformance"/> bound to the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuSelectionTests(IlgpuCpuFixture fixture) : SelectionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <summary>GPU kernels sum in a different order (and scatter with atomics): never tighter than GpuF32.</summary>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

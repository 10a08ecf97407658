// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The shared op conformance bodies, run on ILGPU's CPU emulator at tiny shapes.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Testing;
using HpcCore.Testing.Conformance;

/// <summary><see cref="OpsConformance"/> bound to the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuOpsTests(IlgpuCpuFixture fixture) : OpsConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <summary>GPU kernels use XMath's exp/tanh/sin and a different summation order: never tighter than GpuF32.</summary>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The paged KV attention conformance body on ILGPU's CPU emulator, heads capped at a few tokens.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Testing;
using HpcCore.Testing.Conformance;

/// <summary><see cref="PagedAttentionConformance"/> bound to the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuPagedAttentionTests(IlgpuCpuFixture fixture) : PagedAttentionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <summary>GPU kernels use XMath's exp/sin/cos and a different summation order: never tighter than GpuF32.</summary>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The conformance bodies every backend runs, bound to the OpenCL device at the full odd-size catalogue (up to 197
// columns; the emulator runs only 1, 7 and 33): ops, selection primitives (indices identical to the reference, ties to
// the lower index) and paged attention.
namespace HpcCore.OpenCL.Tests;

using HpcCore.Devices;
using HpcCore.Testing;
using HpcCore.Testing.Conformance;

/// <summary>Ops conformance on OpenCL.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLOpsTests(OpenCLFixture fixture) : OpsConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => false;

    /// <summary>OpenCL kernels use the device's exp/tanh/sin and another summation order: never tighter than GpuF32.</summary>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

/// <summary>Selection conformance on OpenCL.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLSelectionTests(OpenCLFixture fixture) : SelectionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => false;

    /// <inheritdoc/>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

/// <summary>Paged attention conformance on OpenCL.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLPagedAttentionTests(OpenCLFixture fixture) : PagedAttentionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.Backend;

    /// <inheritdoc/>
    protected override bool IsEmulator => false;

    /// <inheritdoc/>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

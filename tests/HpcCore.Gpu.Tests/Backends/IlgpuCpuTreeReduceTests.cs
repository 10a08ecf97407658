// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The conformance suites whose kernels reduce over a group (softmax, norms, argmax, best match, row max, the greedy
// picks, paged attention), run on the emulator with the shared-memory tree reductions instead of warp shuffles: the
// form OpenCL devices without shuffles (pocl) load, checked here on every machine, pocl or not.
namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Testing;
using HpcCore.Testing.Conformance;

/// <summary>Ops conformance with tree reductions.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuTreeOpsTests(IlgpuCpuFixture fixture) : OpsConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.TreeReduce;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <inheritdoc/>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

/// <summary>Selection conformance with tree reductions (arg-max ties must still go to the lower index).</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuTreeSelectionTests(IlgpuCpuFixture fixture) : SelectionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.TreeReduce;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <inheritdoc/>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

/// <summary>Paged attention conformance with tree reductions.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuCpuTreePagedAttentionTests(IlgpuCpuFixture fixture) : PagedAttentionConformance
{
    /// <inheritdoc/>
    protected override IBackend Backend => fixture.TreeReduce;

    /// <inheritdoc/>
    protected override bool IsEmulator => true;

    /// <inheritdoc/>
    protected override Tolerance Adjust(Tolerance tolerance) => tolerance.NoTighterThan(Tolerance.GpuF32);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Backends;

using HpcCore.Devices;
using HpcCore.Testing.Conformance;
using Xunit;

/// <summary>The selection-op conformance suite on the SIMD CPU backend, over the full odd-size catalogue.</summary>
[Collection(CpuBackendGroup.Name)]
public sealed class CpuSelectionTests(CpuBackendFixture fixture) : SelectionConformance
{
    protected override IBackend Backend => fixture.Backend;

    protected override bool IsEmulator => false;
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Backends;

using HpcCore.Devices;
using HpcCore.Testing.Conformance;
using Xunit;

/// <summary>The core-op conformance suite on the SIMD CPU backend, over the full odd-size catalogue.</summary>
[Collection(CpuBackendGroup.Name)]
public sealed class CpuOpsTests(CpuBackendFixture fixture) : OpsConformance
{
    protected override IBackend Backend => fixture.Backend;

    protected override bool IsEmulator => false;
}

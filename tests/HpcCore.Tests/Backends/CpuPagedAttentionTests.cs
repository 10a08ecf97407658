// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Backends;

using HpcCore.Devices;
using HpcCore.Testing.Conformance;
using Xunit;

/// <summary>The paged KV attention conformance suite on the SIMD CPU backend, at full size.</summary>
[Collection(CpuBackendGroup.Name)]
public sealed class CpuPagedAttentionTests(CpuBackendFixture fixture) : PagedAttentionConformance
{
    protected override IBackend Backend => fixture.Backend;

    protected override bool IsEmulator => false;
}

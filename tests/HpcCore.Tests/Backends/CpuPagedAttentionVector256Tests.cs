// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The paged-attention conformance suite once more under the trait that ./build.sh test re-runs with
// DOTNET_EnableAVX512=0, so the kernels' Vector256 paths (AVX2 machines) are checked against the reference too: on an
// AVX-512 machine only D % 16 != 0 reaches them otherwise.
namespace HpcCore.Tests.Backends;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Testing.Conformance;
using Xunit;

[Trait("Simd", "Vector256")]
public sealed class CpuPagedAttentionVector256Tests : PagedAttentionConformance, IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 2);

    protected override IBackend Backend => _cpu;

    protected override bool IsEmulator => false;

    public void Dispose() => _cpu.Dispose();
}

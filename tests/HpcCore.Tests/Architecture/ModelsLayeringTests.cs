// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Issue #15: the pipelines run on IBackend only. HpcCore.Models must not reach into the CPU backend's types (the
// decoder once cast its backend to CpuBackend and its KV cache took a CpuWorkerPool, so it could never run on ILGPU).
// Read from the compiled assembly's type references, so a use anywhere in the library fails this test.
namespace HpcCore.Tests.Architecture;

using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using HpcCore.Models.Lm;
using Xunit;

public sealed class ModelsLayeringTests
{
    [Fact]
    public void Models_NamesNoCpuBackendType()
    {
        using var stream = File.OpenRead(typeof(LmDecoder).Assembly.Location);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var names = md.TypeReferences
            .Select(h => md.GetTypeReference(h))
            .Select(t => $"{md.GetString(t.Namespace)}.{md.GetString(t.Name)}")
            .ToHashSet();
        Assert.Contains("HpcCore.Devices.IBackend", names);
        foreach (var forbidden in new[] { "HpcCore.Cpu.CpuBackend", "HpcCore.Cpu.CpuStorage", "HpcCore.Cpu.CpuWorkerPool" })
            Assert.DoesNotContain(forbidden, names);
    }
}

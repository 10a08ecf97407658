// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Offline PTX generation (no GPU needed, ilgpu.md Appendix C): every kernel must compile with ILGPU's PTX backend for
// an H100 (SM_90, PTX ISA 8.8) and use the instructions its design relies on. ILGPU targets sm_80 on Hopper by
// design ("lowest architecture that supports the device's capabilities"); the driver JITs that PTX to sm_90 SASS.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace HpcCore.Gpu.Tests;

using HpcCore.Gpu.Kernels;

/// <summary>One ILGPU context and PTX backend shared by the PTX tests.</summary>
public sealed class PtxFixture : IDisposable
{
    private readonly Dictionary<string, string> _cache = [];
    private readonly Lock _gate = new();

    /// <summary>Creates the context (same settings as the runtime context) and an SM_90 / ISA 8.8 PTX backend.</summary>
    public PtxFixture()
    {
        Context = Context.Create(b => b.EnableAlgorithms().Optimize(OptimizationLevel.O2));
        Backend = new PTXBackend(Context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90,
            CudaInstructionSet.ISA_88, null);
    }

    /// <summary>The compile-only context.</summary>
    public Context Context { get; }

    /// <summary>The PTX backend.</summary>
    public PTXBackend Backend { get; }

    /// <summary>PTX of the named kernel (compiled once).</summary>
    public string Ptx(string name)
    {
        lock (_gate)
        {
            if (_cache.TryGetValue(name, out var ptx)) return ptx;
            var entry = EntryPointDescription.FromExplicitlyGroupedKernel(KernelCatalog.All[name]);
            ptx = ((PTXCompiledKernel)Backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
            _cache[name] = ptx;
            return ptx;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Backend.Dispose();
        Context.Dispose();
    }
}

/// <summary>Every kernel compiles to PTX for SM_90 and contains its expected instructions.</summary>
public sealed class PtxCompileTests(PtxFixture fixture) : IClassFixture<PtxFixture>
{
    public static TheoryData<string> KernelNames => new(KernelCatalog.All.Keys);

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_CompilesForSm90_TargetingSm80WithGlobalLoads(string name)
    {
        string ptx = fixture.Ptx(name);
        Assert.Contains(".version 8.8", ptx, StringComparison.Ordinal);
        Assert.Contains(".target sm_80", ptx, StringComparison.Ordinal);
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        Assert.Contains("ld.global", ptx, StringComparison.Ordinal);
        // Writes: plain stores, or global atomics for kernels that only accumulate (scatter).
        Assert.True(ptx.Contains("st.global", StringComparison.Ordinal) || ptx.Contains("atom.", StringComparison.Ordinal)
            || ptx.Contains("red.add.global", StringComparison.Ordinal), $"{name}: no global store or atomic");
    }

    [Theory]
    [InlineData("softmax/row")]
    [InlineData("norm/row")]
    [InlineData("argmax/row")]
    public void RowKernels_UseWarpShufflesAndBarriers(string name)
    {
        string ptx = fixture.Ptx(name);
        Assert.Contains("shfl.sync.bfly", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemm_UsesDynamicSharedMemoryAndBarriers()
    {
        string ptx = fixture.Ptx("gemm/tiled");
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains("st.shared", ptx, StringComparison.Ordinal);
        Assert.Contains("ld.shared", ptx, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("softmax/row")]
    [InlineData("unary/elementwise")]
    [InlineData("swiglu/elementwise")]
    public void ExpKernels_UseTheFastHardwareExp(string name) =>
        Assert.Contains("ex2.approx", fixture.Ptx(name), StringComparison.Ordinal);

    [Fact]
    public void Convert_UsesIntegerRoundingOnly()
    {
        // Bit-exact rounding is done with integer ops, never with cvt to f16/bf16 (whose NaN payloads differ).
        string ptx = fixture.Ptx("convert/elementwise");
        Assert.DoesNotContain("cvt.rn.f16", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("cvt.rn.bf16", ptx, StringComparison.Ordinal);
    }
}

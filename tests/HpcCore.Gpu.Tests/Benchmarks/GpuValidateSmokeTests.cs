// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The issue #8 modes of HpcCore.GpuBenchmarks work without a GPU: validate and ops on ILGPU's CPU emulator (subsets,
// to keep the suite quick; tools/gpu/run_all.sh --smoke runs them whole), ptx offline, and the comparison can fail.
using System.Text.Json;

namespace HpcCore.Gpu.Tests;

using HpcCore.GpuBenchmarks.Ops;
using HpcCore.GpuBenchmarks.Validate;

// Opens emulator accelerators of its own: in the emulator's collection, so that no two CPU accelerators of the one
// ILGPU context run kernels at once (a sort read back as zeros once on a loaded CI machine while they did).
/// <summary>`validate`, `ops` and `ptx` end to end on the emulator; the error figures of the comparison.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class GpuValidateSmokeTests
{
    private static JsonElement[] Lines(StringWriter output) =>
        [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    [Theory]
    [InlineData("tome", new[] { "token_map", "sources", "destinations", "merged", "size" })]
    [InlineData("attention/exports", new[] { "out", "key_totals", "row_probabilities" })]
    [InlineData("bestmatch", new[] { "max", "argmax" })]
    public void Validate_Smoke_ComparesEveryOutputAgainstTheCpu(string only, string[] outputs)
    {
        using var output = new StringWriter();
        Assert.Equal(0, GpuValidate.Run(["--smoke", "--only", only], output));
        var lines = Lines(output);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            Assert.Equal("pass", line.GetProperty("status").GetString());
            Assert.Equal(0, line.GetProperty("mismatches").GetInt64());
        }
        Assert.Equal(outputs.Order(), lines.Select(l => l.GetProperty("output").GetString()!).Distinct().Order());
    }

    [Fact]
    public void Validate_F32OnlyOps_ReportF16AsNotSupported()
    {
        using var output = new StringWriter();
        Assert.Equal(0, GpuValidate.Run(["--smoke", "--only", "layernorm"], output));
        var lines = Lines(output);
        Assert.Contains(lines, l => l.GetProperty("dtype").GetString() == "f16" && l.GetProperty("status").GetString() == "not_supported");
        Assert.Contains(lines, l => l.GetProperty("dtype").GetString() == "f32" && l.GetProperty("status").GetString() == "pass");
    }

    [Fact]
    public void Validate_CpuOnly_RunsTheCpuSideOfEveryMatchingCase()
    {
        using var output = new StringWriter();
        Assert.Equal(0, GpuValidate.Run(["--tiny", "--cpu-only", "--only", "attention/gqa"], output));
        var lines = Lines(output);
        Assert.Equal(4, lines.Length); // two gqa shapes x (f32, f16)
        Assert.All(lines, l => Assert.Equal("ok", l.GetProperty("status").GetString()));
    }

    [Fact]
    public void Errors_FlagNaNWhereTheCpuHasNoneAndDifferingIndices()
    {
        var nan = Errors.Of([1f, float.NaN, 3f], [1f, 2f, 3f]);
        Assert.Equal(1, nan.Mismatches);
        Assert.True(double.IsNaN(nan.RelL2));
        var close = Errors.Of([1f, 2.001f], [1f, 2f]);
        Assert.Equal(0, close.Mismatches);
        Assert.InRange(close.RelL2, 4e-4, 5e-4);
        Assert.Equal(0.001, close.MaxAbs, 1e-6);
        var ints = Errors.Of([0, 2, 1], [0, 1, 2]);
        Assert.Equal(2, ints.Mismatches);
        Assert.Equal(3, Errors.Of([1, 2], [1, 2, 3]).Mismatches);
    }

    [Fact]
    public void Ops_Smoke_PrintsTimedLinesWithFloorsAndTheToMeMerge()
    {
        using var output = new StringWriter();
        Assert.Equal(0, GpuOpsBench.Run(["--smoke", "--only", "tome-merge"], output));
        var lines = Lines(output);
        Assert.Equal(["copy", "selection"], lines.Select(l => l.GetProperty("bench").GetString()));
        var merge = lines[1];
        Assert.StartsWith("tome-merge-", merge.GetProperty("shape").GetString(), StringComparison.Ordinal);
        Assert.True(merge.GetProperty("median_ms").GetDouble() > 0);
        Assert.True(merge.GetProperty("bytes").GetDouble() > 0);
        Assert.Equal("none", merge.GetProperty("peaks").GetString()); // the emulator has no datasheet peaks
    }

    [Fact]
    public void Ptx_WritesEveryCatalogKernel()
    {
        string dir = Path.Combine(Path.GetTempPath(), "hpccore-ptx-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var output = new StringWriter();
            Assert.Equal(0, PtxDump.Run([dir], output));
            var lines = Lines(output);
            Assert.Equal(PtxDump.Kernels().Keys.Order(), lines.Select(l => l.GetProperty("kernel").GetString()!).Order());
            Assert.Equal(lines.Length, Directory.GetFiles(dir, "*.ptx").Length);
            var softmax = lines.Single(l => l.GetProperty("kernel").GetString() == "softmax/row");
            Assert.True(softmax.GetProperty("static_shared_bytes").GetInt64() > 0);
            Assert.True(softmax.GetProperty("shfl").GetInt32() > 0);
            Assert.Equal(0, lines.Single(l => l.GetProperty("kernel").GetString() == "binary/elementwise").GetProperty("atomics").GetInt32());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("validate", "--bogus")]
    [InlineData("ops", "--min-seconds", "0")]
    public void BadArguments_AreRefused(string mode, params string[] args) =>
        Assert.Equal(2, mode == "validate" ? GpuValidate.Run(args, TextWriter.Null) : GpuOpsBench.Run(args, TextWriter.Null));
}

/// <summary>The datasheet peaks and the floor rule.</summary>
public sealed class DevicePeaksTests
{
    [Theory]
    [InlineData("NVIDIA H200", 4.8)]
    [InlineData("NVIDIA H100 80GB HBM3", 3.35)]
    [InlineData("NVIDIA H100 PCIe", 2.0)]
    public void KnownDevices_HaveTheirBandwidth(string name, double tbps) => Assert.Equal(tbps, DevicePeaks.For(name)!.HbmTBps);

    [Fact]
    public void UnknownDevice_HasNoPeaks() => Assert.Null(DevicePeaks.For("CPUAccelerator"));

    [Fact]
    public void Floor_IsTheLargerOfComputeAndMemory()
    {
        var h100 = DevicePeaks.For("NVIDIA H100")!;
        var (gemm, gemmBound) = h100.Floor(2.0 * 4096 * 4096 * 4096, 3.0 * 4096 * 4096 * 4);
        Assert.Equal("compute", gemmBound);
        Assert.Equal(2.0 * 4096 * 4096 * 4096 / 67e12, gemm, 1e-9);
        var (copy, copyBound) = h100.Floor(0, 1e9);
        Assert.Equal("memory", copyBound);
        Assert.Equal(1e9 / 3.35e12, copy, 1e-12);
    }
}

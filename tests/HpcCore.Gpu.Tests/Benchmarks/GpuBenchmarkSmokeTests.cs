// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The GPU benchmark app works without a GPU: `--smoke` runs its tiny shapes on ILGPU's CPU emulator through the same
// code path (upload, NaN-poisoned output, float64 sampled-row check, timing, JSON) that runs on a CUDA device.
using System.Text.Json;

namespace HpcCore.Gpu.Tests;

using HpcCore.GpuBenchmarks;

// Opens emulator accelerators of its own: in the emulator's collection, so that no two CPU accelerators of the one
// ILGPU context run kernels at once (a sort read back as zeros once on a loaded CI machine while they did).
/// <summary>`HpcCore.GpuBenchmarks --smoke` end to end.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class GpuBenchmarkSmokeTests
{
    [Fact]
    public void Smoke_PrintsOneCheckedJsonLinePerShapeAndDType()
    {
        using var output = new StringWriter();
        Assert.Equal(0, GpuAttentionBench.Run(["--smoke"], output));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = BenchShape.Smoke.SelectMany(s => new[] { (s.Key, "f32"), (s.Key, "f16") }).ToArray();
        Assert.Equal(expected.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            Assert.Equal(expected[i].Key, root.GetProperty("shape").GetString());
            Assert.Equal(expected[i].Item2, root.GetProperty("dtype").GetString());
            Assert.True(root.GetProperty("ok").GetBoolean(), lines[i]);
            Assert.InRange(root.GetProperty("rel_l2").GetDouble(), 0, expected[i].Item2 == "f32" ? 1e-5 : 2e-3);
            Assert.True(root.GetProperty("median_ms").GetDouble() > 0, lines[i]);
        }
    }

    [Theory]
    [InlineData("--dtype", "f64")]
    [InlineData("--max-iters", "2")]
    [InlineData("--unknown")]
    public void BadArguments_AreRefused(params string[] args) =>
        Assert.Equal(2, GpuAttentionBench.Run(args, TextWriter.Null));
}

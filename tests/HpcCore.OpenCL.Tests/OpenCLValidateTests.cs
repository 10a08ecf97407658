// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks validate --opencl`: every GPU op and token-reduction kernel (top-k, argsort, index sort,
// compaction, gathers, scatter-mean, cosine, best match, row max, the ToMe plan and merge, PageRank, farthest point,
// coverage) and every attention mode against the SIMD CPU backend at 197, 577 and 2,880 tokens: float outputs
// within their relative L2 limit, index outputs identical.
using System.Text.Json;

namespace HpcCore.OpenCL.Tests;

using HpcCore.GpuBenchmarks.Validate;

/// <summary>The validation cases on the OpenCL device.</summary>
[Collection(OpenCLGroup.Name)]
public sealed class OpenCLValidateTests(OpenCLFixture fixture)
{
    [Theory]
    [InlineData("gemm")]
    [InlineData("norm")]
    [InlineData("softmax")]
    [InlineData("gelu")]
    [InlineData("add")]
    [InlineData("swiglu")]
    [InlineData("argmax")]
    [InlineData("convert")]
    [InlineData("embedding")]
    [InlineData("topk")]
    [InlineData("argsort")]
    [InlineData("sort-indices")]
    [InlineData("threshold-compact")]
    [InlineData("gather-rows")]
    [InlineData("scatter-mean")]
    [InlineData("cosine")]
    [InlineData("bestmatch")]
    [InlineData("rowmax")]
    [InlineData("tome-plan-merge")]
    [InlineData("pagerank")]
    [InlineData("farthest-point")]
    [InlineData("coverage")]
    [InlineData("sum-axis")]
    [InlineData("attention/")]
    public void EveryCase_MatchesTheCpu(string op)
    {
        using var output = new StringWriter();
        int rc = GpuValidate.Run(fixture.Backend, ValidateScale.Medium, op, output);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.NotEmpty(lines);
        var failed = lines.Where(l => !l.GetProperty("ok").GetBoolean()).Select(l => l.ToString()).ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} of {lines.Length} outputs failed:\n{string.Join('\n', failed)}");
        Assert.Equal(0, rc);
        Assert.Contains(lines, l => l.GetProperty("status").GetString() == "pass");
    }
}

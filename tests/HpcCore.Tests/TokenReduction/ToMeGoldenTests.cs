// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToMe against PyTorch: tome.safetensors is written by tools/golden/tome.py with Debian's python3-torch.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class ToMeGoldenTests(CpuBackendFixture fixture) : IDisposable
{
    private const string Hint = "regenerate with: /usr/bin/python3 tools/golden/tome.py tests/HpcCore.Tests/Golden/tome.safetensors";
    private readonly SafetensorsReader _file = Open();
    private readonly List<Tensor> _owned = [];

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _file.Dispose();
    }

    private static SafetensorsReader Open()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "tome.safetensors");
        Assert.True(File.Exists(path), $"missing golden file {path}; {Hint}");
        return SafetensorsReader.Open(path);
    }

    private Tensor T(string name)
    {
        Assert.True(_file.Contains(name), $"golden file lacks '{name}'; {Hint}");
        var t = _file.Load(name, fixture.Backend);
        _owned.Add(t);
        return t;
    }

    [Fact]
    public void GoldenFile_WasWrittenByTheScript() =>
        Assert.Equal("tools/golden/tome.py", _file.Metadata["generator"]);

    [Theory]
    [InlineData("vit_cls", 16, true, false, true)]
    [InlineData("plain_odd", 7, false, false, true)]
    [InlineData("distilled", 50, true, true, true)]
    [InlineData("clamped", 100, true, false, true)]
    [InlineData("aim_mean", 32, false, false, false)]
    public void PlanMergeUnmerge_MatchTorch(string name, int r, bool cls, bool distill, bool sized)
    {
        using var plan = ToMe.Plan(T($"{name}.metric"), r, new ToMeOptions(cls, distill));
        Assert.Equal(T($"{name}.r_eff").ToArray<int>()[0], plan.R);
        TensorAssert.Equal(T($"{name}.src").ToArray<int>(), plan.Sources.ToArray<int>(), $"{name} src");
        TensorAssert.Equal(T($"{name}.dst").ToArray<int>(), plan.Destinations.ToArray<int>(), $"{name} dst");
        TensorAssert.Equal(T($"{name}.map").ToArray<int>(), plan.TokenMap.ToArray<int>(), $"{name} map");

        var (x, size) = ToMe.Merge(plan, T($"{name}.x"), sized ? T($"{name}.size") : null);
        using (x)
        using (size)
        using (var back = ToMe.Unmerge(plan, x))
        {
            TensorAssert.Close(T($"{name}.x_out").ToArray<float>(), x.ToArray<float>(), Tolerance.F32Reduction, $"{name} merged x");
            TensorAssert.Close(T($"{name}.size_out").ToArray<float>(), size.ToArray<float>(), Tolerance.F32Elementwise, $"{name} sizes");
            TensorAssert.Close(T($"{name}.unmerged").ToArray<float>(), back.ToArray<float>(), Tolerance.F32Reduction, $"{name} unmerged");
        }
    }
}

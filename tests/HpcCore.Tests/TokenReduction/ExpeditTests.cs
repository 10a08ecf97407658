// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference.TokenReduction;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class ExpeditTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(8, 8, 4, 4, 1, 0.05f, 5)]
    [InlineData(7, 9, 3, 4, 2, 0.02f, 20)]
    [InlineData(6, 6, 6, 6, 0, 0.1f, 3)]
    [InlineData(5, 5, 1, 1, 2, 0.01f, 20)]
    public void ClusterAndReconstruct_MatchReference(int h, int w, int oh, int ow, int radius, float tau, int k)
    {
        int batch = 2, c = 12, n = h * w, m = oh * ow;
        var x = TestData.Normal(batch * n * c, h * 10 + w, 2f);
        var refined = TestData.Normal(batch * m * c, m);
        using var xt = Tensor.From<float>(x, new Shape(batch, h, w, c), fixture.Backend);
        using var rt = Tensor.From<float>(refined, new Shape(batch, m, c), fixture.Backend);
        var options = new ExpeditOptions(Iterations: 5, Temperature: tau, Radius: radius, ReconstructionK: k);
        using var plan = Expedit.Cluster(xt, oh, ow, options);
        using var rebuilt = Expedit.Reconstruct(plan, rt);
        Assert.Equal(new Shape(batch, n, c), rebuilt.Shape);
        var centers = plan.Centers.ToArray<float>();
        var weights = plan.Reconstruction.ToArray<float>();
        var output = rebuilt.ToArray<float>();
        for (int b = 0; b < batch; b++)
        {
            var (ec, ew) = ReferenceExpedit.Cluster(x[(b * n * c)..((b + 1) * n * c)], h, w, c, oh, ow, 5, tau, radius, Math.Min(k, m));
            TensorAssert.Close(ec, centers.AsSpan(b * m * c, m * c), Tolerance.F32Reduction, $"centres {b}");
            TensorAssert.Close(ew, weights.AsSpan(b * n * m, n * m), Tolerance.F32Reduction, $"weights {b}");
            var eo = new double[n * c];
            for (int t = 0; t < n; t++)
                for (int j = 0; j < m; j++)
                    for (int e = 0; e < c; e++) eo[t * c + e] += ew[t * m + j] * refined[(b * m + j) * c + e];
            TensorAssert.Close(eo, output.AsSpan(b * n * c, n * c), Tolerance.F32Reduction.ForDot(m), $"rebuilt {b}");
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var x = Tensor.From<float>(new float[4 * 4 * 3], new Shape(1, 4, 4, 3), fixture.Backend);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Expedit.Cluster(x, 5, 2));
        Assert.Contains("Expedit.Cluster", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Expedit.Cluster(x, 2, 2, new ExpeditOptions(Temperature: -1)));
        using var plan = Expedit.Cluster(x, 2, 2);
        using var wrong = Tensor.From<float>(new float[5 * 3], new Shape(1, 5, 3), fixture.Backend);
        Assert.Throws<ArgumentException>(() => Expedit.Reconstruct(plan, wrong));
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Per-layer reduction steps reuse their plans and outputs: no managed garbage, no fresh pool buffers after warm-up.
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Cpu;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.TokenReduction;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class ReductionSteadyStateTests
{
    [Fact]
    public void ToMeAndEvitSteps_AllocateNothing_AfterWarmUp()
    {
        using var cpu = new CpuBackend(threads: 2);
        int b = 2, n = 197, d = 16, c = 48, keep = 137;
        using var metric = Tensor.From<float>(TestData.Normal(b * n * d, 1), new Shape(b, n, d), cpu);
        using var x = Tensor.From<float>(TestData.Normal(b * n * c, 2), new Shape(b, n, c), cpu);
        using var size = Tensor.From<float>(Enumerable.Repeat(1f, b * n).ToArray(), new Shape(b, n), cpu);
        using var scores = Tensor.From<float>(TestData.Uniform(b * (n - 1), 3, 0, 1), new Shape(b, n - 1), cpu);
        var options = new ToMeOptions(ClassToken: true);
        using var plan = ToMe.Plan(metric, 16, options);
        using var merged = Tensor.Empty(new Shape(b, plan.OutputTokens, c), DType.F32, cpu);
        using var mergedSize = Tensor.Empty(new Shape(b, plan.OutputTokens), DType.F32, cpu);
        using var bias = Tensor.Empty(new Shape(b, plan.OutputTokens), DType.F32, cpu);
        using var back = Tensor.Empty(new Shape(b, n, c), DType.F32, cpu);
        using var evit = Evit.Plan(scores, keep);
        using var reorganised = Tensor.Empty(new Shape(b, evit.OutputTokens, c), DType.F32, cpu);

        void Step()
        {
            ToMe.Plan(metric, 16, plan, options);
            ToMe.Merge(plan, x, size, merged, mergedSize);
            ToMe.LogSize(mergedSize, bias);
            ToMe.Unmerge(plan, merged, back);
            Evit.Plan(scores, keep, evit);
            Evit.Apply(evit, x, reorganised);
        }

        SteadyState.AssertAllocatesNothing(cpu, Step);
    }

    [Fact]
    public void PlanIntoAPlanOfAnotherShape_Throws()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var m1 = Tensor.From<float>(TestData.Normal(33 * 4, 1), new Shape(1, 33, 4), cpu);
        using var m2 = Tensor.From<float>(TestData.Normal(31 * 4, 2), new Shape(1, 31, 4), cpu);
        using var plan = ToMe.Plan(m1, 5);
        var ex = Assert.Throws<ArgumentException>(() => ToMe.Plan(m2, 5, plan));
        Assert.Contains("destination", ex.Message);
        Assert.Contains("[1, 31, 4]", ex.Message);
        using var s = Tensor.From<float>(TestData.Uniform(8, 3), new Shape(1, 8), cpu);
        using var evit = Evit.Plan(s, 3);
        Assert.Throws<ArgumentException>(() => Evit.Plan(s, 4, evit));
    }
}

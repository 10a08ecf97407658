// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A steady-state forward pass must allocate nothing: no managed garbage, no fresh native buffers.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class SteadyStateTests
{
    [Fact]
    public void DestinationOverloads_AllocateNothing_AfterWarmUp()
    {
        using var cpu = new CpuBackend(threads: 2);
        int t = 64, c = 96;
        using var x = Tensor.From<float>(TestData.Uniform(t * c, 1), new Shape(t, c), cpu);
        using var gamma = Tensor.From<float>(TestData.Uniform(c, 2), new Shape(c), cpu);
        using var bias = Tensor.From<float>(TestData.Uniform(c, 3), new Shape(c), cpu);
        using var y = Tensor.Empty(new Shape(t, c), DType.F32, cpu);
        using var q = Tensor.Empty(new Shape(1, t, 2, c / 2), DType.F32, cpu);

        void Step()
        {
            Norms.LayerNorm(x, gamma, bias, y);
            Elementwise.Add(y, bias, y);
            Activations.Gelu(y, y);
            Softmax.Forward(y, y);
            Norms.RmsNorm(y, gamma, y);
            Rope.Apply(q, q, new RopeOptions(PositionOffset: 3));
        }

        SteadyState.AssertAllocatesNothing(cpu, Step);
    }

    [Fact]
    public void AllocatingOverloads_ReusePooledBuffers_AfterWarmUp()
    {
        using var cpu = new CpuBackend(threads: 2);
        using var x = Tensor.From<float>(TestData.Uniform(4096, 1), new Shape(64, 64), cpu);
        Softmax.Forward(x).Dispose();
        long fresh = cpu.Memory.FreshAllocations;
        for (int i = 0; i < 10; i++) Softmax.Forward(x).Dispose();
        Assert.Equal(fresh, cpu.Memory.FreshAllocations);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Steady-state attention allocates nothing: no managed garbage and no fresh native buffers, on the plain path,
// with exports (chunked totals), and on the decode kernel (with and without key splits).
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class AttentionSteadyStateTests
{
    [Fact]
    public void Forward_AllocatesNothing_AfterWarmUp()
    {
        using var cpu = new CpuBackend(threads: 2);
        using var q = Tensor.From<float>(TestData.Uniform(100 * 4 * 32, 1), new Shape(1, 100, 4, 32), cpu);
        using var k = Tensor.From<float>(TestData.Uniform(600 * 32, 2), new Shape(1, 600, 1, 32), cpu);
        using var o = Tensor.Empty(q.Shape, DType.F32, cpu);
        using var q1 = Tensor.From<float>(TestData.Uniform(4 * 32, 3), new Shape(1, 1, 4, 32), cpu);
        using var o1 = Tensor.Empty(q1.Shape, DType.F32, cpu);
        using var totals = Tensor.Empty(new Shape(1, 4, 600), DType.F32, cpu);
        using var rows = Tensor.From<int>([0], new Shape(1), cpu);
        using var probs = Tensor.Empty(new Shape(1, 4, 1, 600), DType.F32, cpu);
        var exports = new AttentionOptions(Causal: true, KeyTotals: totals, RowIndices: rows, RowProbabilities: probs);
        // Decode kernel with key splits (partials and combine): B1, Tq 2, 8 heads over 2 kv heads, 4099 keys.
        using var qd = Tensor.From<float>(TestData.Uniform(2 * 8 * 64, 4), new Shape(1, 2, 8, 64), cpu);
        using var kd = Tensor.From<float>(TestData.Uniform(4099 * 2 * 64, 5), new Shape(1, 4099, 2, 64), cpu);
        using var od = Tensor.Empty(qd.Shape, DType.F32, cpu);
        using var lengths = Tensor.From<int>([4000], new Shape(1), cpu);
        var decode = new AttentionOptions(Causal: true, KeyLengths: lengths, SoftCap: 30f);

        void Step()
        {
            Attention.Forward(q, k, k, o);
            Attention.Forward(q, k, k, o, exports);
            Attention.Forward(q1, k, k, o1);
            Attention.Forward(qd, kd, kd, od, decode);
        }

        for (int i = 0; i < 100; i++) Step();
        long fresh = cpu.Memory.FreshAllocations;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(fresh, cpu.Memory.FreshAllocations);
    }
}

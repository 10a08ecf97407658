// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Steady-state attention allocates nothing: no managed garbage and no fresh native buffers, on the plain path,
// with exports (chunked totals), on the decode kernel (with and without key splits, with exports, and on a BF16
// cache widened per key block), and with BF16 operands, a block mask and KeyMeans.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
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
        using var totalsd = Tensor.Empty(new Shape(1, 8, 4099), DType.F32, cpu);
        using var probsd = Tensor.Empty(new Shape(1, 8, 1, 4099), DType.F32, cpu);
        var decodeExports = decode with { KeyTotals = totalsd, RowIndices = rows, RowProbabilities = probsd };
        using var qdh = Cast.To(qd, DType.BF16);
        using var kdh = Cast.To(kd, DType.BF16);
        using var odh = Tensor.Empty(qd.Shape, DType.BF16, cpu);
        // BF16 operands (pooled F32 staging), a block mask with exports (compacted keys) and the KeyMeans pass.
        using var qh = Cast.To(q, DType.BF16);
        using var kh = Cast.To(k, DType.BF16);
        using var oh = Tensor.Empty(q.Shape, DType.BF16, cpu);
        using var blocks = Tensor.From<bool>([true, false, true, true, false, true, true, true, false, true, false, true, true, true, false, true, true, true, false, true], new Shape(1, 1, 2, 10), cpu);
        using var means = Tensor.Empty(new Shape(1, 600, 32), DType.F32, cpu);
        var masked = exports with { Causal = false, BlockMask = blocks, KeyMeans = means, BlockSize = 64 };

        void Step()
        {
            Attention.Forward(q, k, k, o);
            Attention.Forward(q, k, k, o, exports);
            Attention.Forward(q1, k, k, o1);
            Attention.Forward(qd, kd, kd, od, decode);
            Attention.Forward(qd, kd, kd, od, decodeExports);
            Attention.Forward(qdh, kdh, kdh, odh, decodeExports);
            Attention.Forward(qh, kh, kh, oh, masked);
        }

        SteadyState.AssertAllocatesNothing(cpu, Step);
    }
}

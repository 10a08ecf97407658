// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ToMe's proportional attention through the real kernel: a key of size s with bias log(s) must weigh exactly as s
// copies of that key (ToMe, section 3: "a merged token counts as s tokens in the softmax").
namespace HpcCore.Tests.TokenReduction;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Tests.Backends;
using HpcCore.TokenReduction;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class ProportionalAttentionTests(CpuBackendFixture fixture)
{
    [Theory]
    [InlineData(7, 2, 16)]
    [InlineData(33, 4, 32)]
    public void LogSizeBias_EqualsRepeatedKeys(int m, int heads, int d)
    {
        int tq = 5;
        var size = TestData.Ints(m, m, 4).Select(v => (float)(v + 1)).ToArray();
        var k = TestData.Normal(m * heads * d, 1);
        var v = TestData.Normal(m * heads * d, 2);
        int total = (int)size.Sum();
        var kRep = new float[total * heads * d];
        var vRep = new float[total * heads * d];
        for (int i = 0, o = 0; i < m; i++)
            for (int rep = 0; rep < size[i]; rep++, o++)
            {
                Array.Copy(k, i * heads * d, kRep, o * heads * d, heads * d);
                Array.Copy(v, i * heads * d, vRep, o * heads * d, heads * d);
            }
        using var q = Tensor.From<float>(TestData.Normal(tq * heads * d, 3), new Shape(1, tq, heads, d), fixture.Backend);
        using var km = Tensor.From<float>(k, new Shape(1, m, heads, d), fixture.Backend);
        using var vm = Tensor.From<float>(v, new Shape(1, m, heads, d), fixture.Backend);
        using var kr = Tensor.From<float>(kRep, new Shape(1, total, heads, d), fixture.Backend);
        using var vr = Tensor.From<float>(vRep, new Shape(1, total, heads, d), fixture.Backend);
        using var st = Tensor.From<float>(size, new Shape(1, m), fixture.Backend);
        using var bias = ToMe.LogSize(st);

        using var merged = Attention.Forward(q, km, vm, new AttentionOptions(KeyBias: bias));
        using var repeated = Attention.Forward(q, kr, vr);
        TensorAssert.Close(repeated.ToArray<float>(), merged.ToArray<float>(), Tolerance.F32Reduction, "log(size) bias vs repeated keys");
    }
}

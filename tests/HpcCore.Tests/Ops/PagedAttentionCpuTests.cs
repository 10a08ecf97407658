// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// CPU-only properties of the paged kernels: the result does not depend on the thread count (bit for bit), and a
// decode step (with every option) and a KV append allocate nothing once warm.
namespace HpcCore.Tests.Ops;

using HpcCore.Cpu;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

[Collection(SteadyStateGroup.Name)]
public sealed class PagedAttentionCpuTests
{
    public static TheoryData<PagedAttentionCase> ParallelCases =>
    [
        new PagedAttentionCase(2, 1, 8, 2, 64, 16, 300) { Ragged = true, Exports = true },
        new PagedAttentionCase(2, 7, 8, 4, 8, 5, 400) { Ragged = true, Selected = true, Compensation = true, Rope = RopeLayout.HalfSplit, Exports = true },
        new PagedAttentionCase(1, 3, 4, 2, 40, 16, 200) { DType = DType.BF16, Rope = RopeLayout.Interleaved, RotaryDim = 16, Exports = true },
    ];

    [Theory]
    [MemberData(nameof(ParallelCases))]
    public void Result_IsBitIdentical_AcrossThreadCounts(PagedAttentionCase c)
    {
        using var one = new CpuBackend(threads: 1);
        using var four = new CpuBackend(threads: 4);
        var data = c.Build();
        var a = c.Run(data, one);
        var b = c.Run(data, four);
        Assert.Equal(a.Dest, b.Dest);
        Assert.Equal(a.KeyTotals, b.KeyTotals);
        Assert.Equal(a.WindowTotals, b.WindowTotals);
        Assert.Equal(a.Probabilities, b.Probabilities);
    }

    [Theory]
    [InlineData(DType.F32, false)]
    [InlineData(DType.F16, true)]
    public void DecodeStep_AndAppend_AllocateNothing(DType pageType, bool everything)
    {
        using var cpu = new CpuBackend(threads: 2);
        var c = new PagedAttentionCase(1, 1, 8, 2, 64, 16, 200) { DType = pageType, Ragged = true, Selected = everything, Compensation = everything, Rope = everything ? RopeLayout.HalfSplit : null, Exports = true };
        var data = c.Build();
        var x = data.Inputs;
        int e = x.ExportKeys;
        using var q = Tensor.From<float>(x.Q, new Shape(1, 1, 8, 64), cpu);
        using var kp = c.PagesOn(data.KeysF32, data.Pages, cpu);
        using var vp = c.PagesOn(data.ValuesF32, data.Pages, cpu);
        using var tables = Tensor.From<int>(x.BlockTables, new Shape(1, 2, x.MaxBlocks), cpu);
        using var lengths = Tensor.From<int>(x.Lengths, new Shape(1, 2), cpu);
        using var dest = Tensor.Zeros(new Shape(1, 1, 8, 64), DType.F32, cpu);
        using var totals = Tensor.Zeros(new Shape(1, 8, e), DType.F32, cpu);
        using var window = Tensor.Zeros(new Shape(1, 8, e), DType.F32, cpu);
        using var probs = Tensor.Zeros(new Shape(1, 1, 8, e), DType.F32, cpu);
        using var sel = everything ? Tensor.From<int>(x.SelectedKeys!, new Shape(1, 2, x.MaxSelected), cpu) : null;
        using var counts = everything ? Tensor.From<int>(x.SelectedCounts!, new Shape(1, 2), cpu) : null;
        using var ck = everything ? Tensor.From<float>(x.CompensationKeys!, new Shape(1, 2, 64), cpu) : null;
        using var cv = everything ? Tensor.From<float>(x.CompensationValues!, new Shape(1, 2, 64), cpu) : null;
        using var cb = everything ? Tensor.From<float>(x.CompensationBias!, new Shape(1, 2), cpu) : null;
        var kv = new PagedKv(kp, vp, tables, lengths);
        var options = new PagedAttentionOptions(SelectedKeys: sel, SelectedCounts: counts, CompensationKeys: ck, CompensationValues: cv,
            CompensationBias: cb, RenumberPositions: everything, Rope: new RopeOptions(Layout: RopeLayout.HalfSplit),
            KeyTotals: totals, WindowTotals: window, Probabilities: probs);
        using var rows = Tensor.Zeros(new Shape(2, 64), DType.F32, cpu);
        using var slots = Tensor.From<int>([3, 17], new Shape(2), cpu);
        SteadyState.AssertAllocatesNothing(cpu, () =>
        {
            KvPages.Write(rows, kp, slots);
            PagedAttention.Forward(q, kv, dest, options);
        });
    }
}

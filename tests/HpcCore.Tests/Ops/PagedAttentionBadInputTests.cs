// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// PagedAttention.Forward and KvPages.Write/Read reject bad input at the front door with messages naming the op and
// the argument; a rejected call leaves its outputs untouched.
namespace HpcCore.Tests.Ops;

using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class PagedAttentionBadInputTests : BadInputTestBase
{
    private const string Op = "PagedAttention.Forward";

    // A valid call: B = 1, Tq = 2, H = 4, Hkv = 2, D = 8, pages of 4 tokens, heads of 5 and 7 tokens.
    private Tensor Q => F(1, 2, 4, 8);
    private Tensor Pages => F(6, 4, 8);
    private Tensor Tables => Ints([0, 1, 0, 2, 3, 0], 1, 2, 3);
    private Tensor Lengths => Ints([5, 7], 1, 2);
    private PagedKv Kv => new(Pages, Pages, Tables, Lengths);

    [Fact]
    public void ValidCall_Runs()
    {
        var dest = F(1, 2, 4, 8);
        PagedAttention.Forward(Q, Kv, dest, new PagedAttentionOptions(KeyTotals: F(1, 4, 7)));
    }

    [Fact]
    public void RejectsWrongDTypes()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        Rejects<ArgumentException>(() => PagedAttention.Forward(T(DType.F16, 1, 2, 4, 8), Kv, dest), Op, "q", "F16", "F32");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { KeyPages = I(6, 4, 8) }, dest), Op, "KeyPages", "I32", "F32, F16 or BF16");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { ValuePages = H(6, 4, 8) }, dest), Op, "ValuePages", "F16", "key pages' F32");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { BlockTables = F(1, 2, 3) }, dest), Op, "BlockTables", "F32", "I32");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { Lengths = F(1, 2) }, dest), Op, "Lengths", "I32");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, H(1, 2, 4, 8)), Op, "destination", "F16");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, dest, new PagedAttentionOptions(KeyTotals: T(DType.F16, 1, 4, 7))), Op, "KeyTotals", "F16");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, dest, new PagedAttentionOptions(SelectedKeys: F(1, 2, 3), SelectedCounts: I(1, 2))), Op, "SelectedKeys", "F32", "I32");
    }

    [Fact]
    public void RejectsWrongShapesAndLayouts()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        Rejects<ArgumentException>(() => PagedAttention.Forward(F(2, 4, 8), Kv, dest), Op, "q", "[2, 4, 8]", "[B, Tq, H, D]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { KeyPages = F(6, 4, 16) }, dest), Op, "KeyPages", "[6, 4, 16]", "D = 8");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { KeyPages = F(6, 32) }, dest), Op, "KeyPages", "[NPages, P, D]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, new PagedKv(F(6, 0, 8), F(6, 0, 8), Tables, Ints([0, 0], 1, 2)), dest), Op, "KeyPages", "[6, 0, 8]", "P > 0");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { ValuePages = F(5, 4, 8) }, dest), Op, "ValuePages", "[5, 4, 8]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { BlockTables = Ints(new int[9], 1, 3, 3), Lengths = Ints([1, 1, 1], 1, 3) }, dest), Op, "BlockTables", "3 kv heads", "multiple");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { BlockTables = Ints(new int[12], 2, 2, 3) }, dest), Op, "BlockTables", "[2, 2, 3]", "B = 1");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { Lengths = Ints([5, 7, 1], 1, 3) }, dest), Op, "Lengths", "[1, 3]", "[B, Hkv]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, F(1, 2, 4, 9)), Op, "destination", "[1, 2, 4, 9]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(F(1, 8, 4, 2).Transpose(1, 3), Kv, dest), Op, "q", "non-contiguous");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { KeyPages = F(6, 8, 4).Transpose(1, 2) }, dest), Op, "KeyPages", "non-contiguous");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { KeyPages = Other(6, 4, 8) }, dest), Op, "KeyPages", "is on");
        Rejects<ObjectDisposedException>(() => PagedAttention.Forward(q, Kv with { ValuePages = Disposed(6, 4, 8) }, dest), Op, "ValuePages");
    }

    [Fact]
    public void RejectsOutOfRangeLengthsAndBlockTables()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { BlockTables = Ints([0, 1, 0, 2, 9, 0], 1, 2, 3) }, dest), Op, "BlockTables", "names page 9", "[0, 6)");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { BlockTables = Ints([0, -1, 0, 2, 3, 0], 1, 2, 3) }, dest), Op, "BlockTables", "names page -1");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { Lengths = Ints([5, 13], 1, 2) }, dest), Op, "Lengths", "holds 13", "12");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv with { Lengths = Ints([-1, 7], 1, 2) }, dest), Op, "Lengths", "holds -1");
        // An entry past a head's length is never read, so it may hold anything.
        PagedAttention.Forward(q, Kv with { BlockTables = Ints([0, 1, -7, 2, 3, 99], 1, 2, 3) }, dest);
    }

    [Fact]
    public void RejectsBadSelections()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        void Run(int[] sel, int[] counts) =>
            PagedAttention.Forward(q, Kv, dest, new PagedAttentionOptions(SelectedKeys: Ints(sel, 1, 2, 3), SelectedCounts: Ints(counts, 1, 2)));
        Rejects<ArgumentException>(() => Run([0, 3, 2, 0, 1, 2], [3, 3]), Op, "SelectedKeys", "holds 2 after 3", "ascending");
        Rejects<ArgumentException>(() => Run([0, 1, 1, 0, 1, 2], [3, 3]), Op, "SelectedKeys", "holds 1 after 1");
        Rejects<ArgumentException>(() => Run([0, 1, 5, 0, 1, 2], [3, 3]), Op, "SelectedKeys", "holds 5", "Lengths = 5");
        Rejects<ArgumentException>(() => Run([0, 1, 2, 0, 1, 2], [4, 3]), Op, "SelectedCounts", "holds 4", "MaxSel = 3");
        Rejects<ArgumentException>(() => Run([0, 1, 2, 0, 1, 2], [-1, 3]), Op, "SelectedCounts", "holds -1");
        Run([0, 1, 9, 4, 6, -3], [2, 2]); // entries past the count are ignored
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, dest, new PagedAttentionOptions(SelectedKeys: Ints(new int[6], 1, 2, 3), SelectedCounts: Ints([0, 0], 2))),
            Op, "SelectedCounts", "[B, Hkv]");
        Rejects<ArgumentException>(() => PagedAttention.Forward(q, Kv, dest, new PagedAttentionOptions(SelectedKeys: Ints(new int[6], 1, 3, 2), SelectedCounts: Ints([0, 0], 1, 2))),
            Op, "SelectedKeys", "[1, 3, 2]");
    }

    [Fact]
    public void RejectsMissingPairOptions()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        void Run(PagedAttentionOptions o) => PagedAttention.Forward(q, Kv, dest, o);
        Rejects<ArgumentException>(() => Run(new(SelectedKeys: Ints(new int[6], 1, 2, 3))), Op, "SelectedCounts", "go together");
        Rejects<ArgumentException>(() => Run(new(SelectedCounts: Ints([0, 0], 1, 2))), Op, "SelectedKeys", "go together");
        Rejects<ArgumentException>(() => Run(new(CompensationKeys: F(1, 2, 8), CompensationBias: F(1, 2))), Op, "CompensationValues", "go together");
        Rejects<ArgumentException>(() => Run(new(CompensationValues: F(1, 2, 8), CompensationBias: F(1, 2))), Op, "CompensationKeys", "go together");
        Rejects<ArgumentException>(() => Run(new(CompensationKeys: F(1, 2, 8), CompensationValues: F(1, 2, 8))), Op, "CompensationBias", "go together");
        Rejects<ArgumentException>(() => Run(new(CompensationKeys: F(1, 2, 4), CompensationValues: F(1, 2, 8), CompensationBias: F(1, 2))), Op, "CompensationKeys", "[1, 2, 4]", "[B, Hkv, D]");
        Rejects<ArgumentException>(() => Run(new(CompensationKeys: F(1, 2, 8), CompensationValues: F(1, 2, 8), CompensationBias: F(2, 1))), Op, "CompensationBias", "[2, 1]");
    }

    [Fact]
    public void RejectsBadExportsAndScalars()
    {
        var q = Q;
        var dest = F(1, 2, 4, 8);
        void Run(PagedAttentionOptions o) => PagedAttention.Forward(q, Kv, dest, o);
        Rejects<ArgumentException>(() => Run(new(KeyTotals: F(1, 4, 6))), Op, "KeyTotals", "6 keys", "7 tokens");
        Rejects<ArgumentException>(() => Run(new(Probabilities: F(1, 2, 4, 6))), Op, "Probabilities", "6 keys", "7 tokens");
        Rejects<ArgumentException>(() => Run(new(WindowTotals: F(1, 3, 7))), Op, "WindowTotals", "[1, 3, 7]", "[B, H, ExportKeys]");
        Rejects<ArgumentException>(() => Run(new(Probabilities: F(1, 4, 7))), Op, "Probabilities", "[B, Tq, H, ExportKeys]");
        Rejects<ArgumentException>(() => Run(new(KeyTotals: F(1, 4, 7), Probabilities: F(1, 2, 4, 8))), Op, "Probabilities", "same width", "(7)");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(WindowTotals: F(1, 4, 7), WindowFromRow: 3)), Op, "WindowFromRow", "Tq = 2");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(Scale: float.NaN)), Op, "Scale");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(RenumberPositions: true, Rope: new RopeOptions(RotaryDim: 3))), Op, "Rope.RotaryDim");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(RenumberPositions: true, Rope: new RopeOptions(RotaryDim: 10))), Op, "Rope.RotaryDim", "D = 8");
        Rejects<ArgumentOutOfRangeException>(() => Run(new(RenumberPositions: true, Rope: new RopeOptions(Theta: -1f))), Op, "Rope.Theta");
    }

    [Fact]
    public void RejectedCall_LeavesOutputsUntouched()
    {
        var dest = Own(Tensor.From<float>(Enumerable.Repeat(3f, 64).ToArray(), new Shape(1, 2, 4, 8), Cpu));
        var totals = Own(Tensor.From<float>(Enumerable.Repeat(4f, 28).ToArray(), new Shape(1, 4, 7), Cpu));
        Assert.Throws<ArgumentException>(() => PagedAttention.Forward(Q, Kv with { BlockTables = Ints([0, 1, 0, 2, 9, 0], 1, 2, 3) }, dest,
            new PagedAttentionOptions(KeyTotals: totals)));
        Assert.All(dest.ToArray<float>(), v => Assert.Equal(3f, v));
        Assert.All(totals.ToArray<float>(), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void KvPages_RejectsBadInput()
    {
        const string Write = "KvPages.Write", Read = "KvPages.Read";
        var pages = Pages; // 24 page rows of D = 8
        Rejects<ArgumentException>(() => KvPages.Write(F(3, 8), pages, Ints([1, 5, 1], 3)), Write, "slots", "holds 1 twice", "distinct");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), pages, Ints([1, 24], 2)), Write, "slots", "holds 24", "[0, 24)");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), pages, Ints([-1, 2], 2)), Write, "slots", "holds -1");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 9), pages, Ints([1, 2], 2)), Write, "rows", "[2, 9]", "D");
        Rejects<ArgumentException>(() => KvPages.Write(I(2, 8), pages, Ints([1, 2], 2)), Write, "rows", "I32", "F32, F16 or BF16");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), I(6, 4, 8), Ints([1, 2], 2)), Write, "pages", "I32");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), F(24, 8), Ints([1, 2], 2)), Write, "pages", "[NPages, P, D]");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), pages, F(2)), Write, "slots", "F32", "I32");
        Rejects<ArgumentException>(() => KvPages.Write(F(2, 8), pages, Ints([1, 2, 3], 3)), Write, "slots", "[3]", "[N]");
        Rejects<ArgumentException>(() => KvPages.Write(Other(2, 8), pages, Ints([1, 2], 2)), Write, "rows", "is on");
        Rejects<ArgumentException>(() => KvPages.Write(Strided(2, 8), pages, Ints([1, 2], 2)), Write, "rows", "non-contiguous");
        Rejects<ArgumentException>(() => KvPages.Read(pages, Ints([1, 2, 3], 3), F(2, 8)), Read, "slots", "[3]", "destination");
        Rejects<ArgumentException>(() => KvPages.Read(pages, Ints([1, 2], 2), F(2, 7)), Read, "destination", "[2, 7]");
        Rejects<ArgumentException>(() => KvPages.Read(pages, Ints([1, 30], 2), F(2, 8)), Read, "slots", "holds 30");
        Rejects<ObjectDisposedException>(() => KvPages.Read(pages, Ints([1, 2], 2), Disposed(2, 8)), Read, "destination");
        KvPages.Read(pages, Ints([1, 1], 2), F(2, 8)); // reads may repeat a slot
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// PagedAttention.Forward and KvPages.Write/Read on the backend under test against ReferencePagedAttention and the
// IEEE conversions: GQA and MHA, small to odd-ish head dims, page sizes 16 and 5 with odd fills, shuffled block
// tables with holes and NaN in every row no token owns, ragged and empty heads, decode / chunk / prefill, selection,
// compensation (log n and -inf biases), RoPE renumbering in both layouts and partial, every export, F16 and BF16
// pages, B = 2. Emulators run the same cases with heads capped at a few tokens (MaxTokens).
namespace HpcCore.Testing.Conformance;

using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Testing.Reference;
using HpcCore.Tensors;
using Xunit;

/// <summary>Paged KV attention conformance suite; bind it to a backend with a thin subclass.</summary>
public abstract class PagedAttentionConformance : ConformanceBase
{
    private static readonly Dictionary<string, PagedAttentionCase> CaseTable = new()
    {
        ["decode gqa8/2 d8 p16"] = new(2, 1, 8, 2, 8, 16, 77) { Ragged = true },
        ["decode mha4 d32 p5"] = new(2, 1, 4, 4, 32, 5, 63) { Ragged = true, Exports = true },
        ["decode gqa8/2 d64 p16 exports"] = new(2, 1, 8, 2, 64, 16, 150) { Ragged = true, Exports = true, EmptyHead = true },
        ["decode gqa8/2 d40 p5 rope"] = new(2, 1, 8, 2, 40, 5, 41) { Ragged = true, Rope = RopeLayout.Interleaved, Exports = true },
        ["chunk7 gqa8/2 d32 p16"] = new(2, 7, 8, 2, 32, 16, 90) { Ragged = true, Exports = true },
        ["chunk7 mha4 d40 p5 selected"] = new(2, 7, 4, 4, 40, 5, 70) { Ragged = true, Selected = true, Exports = true },
        ["chunk7 gqa8/2 d64 p16 compensation"] = new(2, 7, 8, 2, 64, 16, 50) { Ragged = true, Compensation = true, Exports = true, EmptyHead = true },
        ["prefill gqa8/2 d8 p5"] = new(2, 0, 8, 2, 8, 5, 23) { Exports = true },
        ["prefill mha4 d32 p16 ragged rope halfsplit"] = new(2, 0, 4, 4, 32, 16, 37) { Ragged = true, Rope = RopeLayout.HalfSplit, Exports = true },
        ["decode gqa8/2 d64 p5 selected rope partial"] = new(2, 1, 8, 2, 64, 5, 100) { Ragged = true, Selected = true, Rope = RopeLayout.HalfSplit, RotaryDim = 16, Exports = true },
        ["chunk7 gqa8/2 d8 p16 everything"] = new(2, 7, 8, 2, 8, 16, 60) { Ragged = true, Selected = true, Compensation = true, Rope = RopeLayout.Interleaved, Exports = true, Seed = 5 },
        ["chunk7 mha4 d40 p5 everything interleaved partial"] = new(2, 7, 4, 4, 40, 5, 33) { Ragged = true, Selected = true, Compensation = true, Rope = RopeLayout.Interleaved, RotaryDim = 24, Exports = true, Seed = 6 },
        ["decode f16 gqa8/2 d64 p16"] = new(2, 1, 8, 2, 64, 16, 120) { DType = DType.F16, Ragged = true, Exports = true },
        ["chunk7 bf16 mha4 d32 p5 rope"] = new(2, 7, 4, 4, 32, 5, 45) { DType = DType.BF16, Ragged = true, Rope = RopeLayout.HalfSplit, Compensation = true, Exports = true },
        ["decode bf16 gqa8/2 d8 p5 selected"] = new(2, 1, 8, 2, 8, 5, 30) { DType = DType.BF16, Ragged = true, Selected = true, Exports = true },
        ["prefill f16 gqa8/2 d40 p16 everything"] = new(2, 0, 8, 2, 40, 16, 21) { DType = DType.F16, Ragged = true, Selected = true, Compensation = true, Rope = RopeLayout.Interleaved, Exports = true },
    };

    /// <summary>Names of the paged-attention cases.</summary>
    public static TheoryData<string> Cases => [.. CaseTable.Keys];

    /// <summary>Most tokens per head on this backend (emulators: a few, so the suite runs in seconds).</summary>
    protected virtual int MaxTokens => IsEmulator ? 12 : int.MaxValue;

    /// <summary>The named case as this backend runs it.</summary>
    protected PagedAttentionCase Case(string name) => CaseTable[name].Capped(MaxTokens);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(string name)
    {
        var c = Case(name);
        var data = c.Build();
        var expected = ReferencePagedAttention.Forward(data.Inputs);
        c.AssertMatches(expected, c.Run(data, Backend), Adjust(Tolerance.F32Reduction));
    }

    [Fact]
    public void Forward_HeadsWithNoTokens_WriteZeros()
    {
        // Every head empty: rows see nothing, outputs and exports are zeros (not NaN, not left unwritten).
        var c = new PagedAttentionCase(2, 3, 4, 2, 8, 4, 0) { Exports = true };
        var data = c.Build();
        var actual = c.Run(data, Backend);
        Assert.All(actual.Dest, v => Assert.Equal(0f, v));
        Assert.All(actual.KeyTotals!, v => Assert.Equal(0f, v));
        Assert.All(actual.Probabilities!, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(DType.F32, DType.F32)]
    [InlineData(DType.F32, DType.F16)]
    [InlineData(DType.F32, DType.BF16)]
    [InlineData(DType.F16, DType.F32)]
    [InlineData(DType.F16, DType.BF16)]
    [InlineData(DType.BF16, DType.F16)]
    [InlineData(DType.BF16, DType.BF16)]
    public void KvPages_WriteThenRead_RoundTripsWithConversions(DType rowType, DType pageType)
    {
        int pages = 7, p = 5, d = IsEmulator ? 9 : 40, n = 13;
        var rng = new Random(11);
        var slots = Enumerable.Range(0, pages * p).OrderBy(_ => rng.Next()).Take(n).ToArray();
        var rows = TestData.Uniform(n * d, 12, -3f, 3f);
        rows[0] = 1f + 1f / 512 + 1f / 4096; // a BF16 and F16 rounding tie neighbourhood
        var before = TestData.Uniform(pages * p * d, 13);
        var rowsOnHost = Rounded(rows, rowType);

        using var src = OnAs(rowsOnHost, rowType, n, d);
        using var pool = OnAs(Rounded(before, pageType), pageType, pages, p, d);
        using var slotTensor = On(slots, n);
        KvPages.Write(src, pool, slotTensor);

        // Written rows hold the source rounded to the page type; every other row is untouched.
        var expectedPages = Rounded(before, pageType);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < d; c++) expectedPages[slots[i] * d + c] = Rounded([rowsOnHost[i * d + c]], pageType)[0];
        Assert.Equal(expectedPages, ReadAsF32(pool));

        // Read back in another order (repeats allowed) into every destination type.
        var readSlots = slots.Reverse().Append(slots[3]).ToArray();
        foreach (var destType in (DType[])[DType.F32, DType.F16, DType.BF16])
        {
            using var dst = OnAs(Enumerable.Repeat(float.NaN, readSlots.Length * d).ToArray(), destType, readSlots.Length, d);
            using var readTensor = On(readSlots, readSlots.Length);
            KvPages.Read(pool, readTensor, dst);
            var expected = new float[readSlots.Length * d];
            for (int i = 0; i < readSlots.Length; i++)
                for (int c = 0; c < d; c++) expected[i * d + c] = Rounded([expectedPages[readSlots[i] * d + c]], destType)[0];
            Assert.Equal(expected, ReadAsF32(dst));
        }
    }

    /// <summary>Values as the given dtype would hold them (round to nearest even).</summary>
    protected static float[] Rounded(float[] x, DType type) => type switch
    {
        DType.F16 => x.Select(v => (float)ReferenceConvert.ToF16(v)).ToArray(),
        DType.BF16 => x.Select(v => ReferenceConvert.FromBf16(ReferenceConvert.ToBf16(v))).ToArray(),
        _ => (float[])x.Clone(),
    };

    /// <summary>A tensor of <paramref name="type"/> holding <paramref name="x"/> (exactly representable values).</summary>
    protected Tensor OnAs(float[] x, DType type, params int[] dims) => type switch
    {
        DType.F16 => On(x.Select(ReferenceConvert.ToF16).ToArray(), dims),
        DType.BF16 => On(x.Select(ReferenceConvert.ToBf16).ToArray(), dims),
        _ => On(x, dims),
    };

    /// <summary>Reads an F32, F16 or BF16 tensor back as floats.</summary>
    protected float[] ReadAsF32(Tensor t)
    {
        Backend.Synchronize();
        return t.DType switch
        {
            DType.F16 => t.ToArray<Half>().Select(h => (float)h).ToArray(),
            DType.BF16 => t.ToArray<ushort>().Select(ReferenceConvert.FromBf16).ToArray(),
            _ => t.ToArray<float>(),
        };
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// What the paged conformance body does not cover on the emulator: heads longer than a group (several slots per
// thread) and more (b, h) items than groups (scratch slices reused), run-to-run bit reproducibility of the output and
// every export (the kernel has no atomics), agreement with the CPU backend (same export support, close values),
// device-side range safety (page ids, selections, counts and slots are not checked on the host for device tensors),
// steady-state scratch reuse, and bit parity of the KV row conversions with the CPU backend.
using System.Runtime.InteropServices;

namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Testing.Reference;

/// <summary>Paged attention and KV row moves on the emulator: determinism, CPU parity, range safety.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuPagedAttentionTests(IlgpuCpuFixture fixture)
{
    private static readonly PagedAttentionCase Everything =
        new(2, 3, 4, 2, 16, 5, 41) { Ragged = true, Selected = true, Compensation = true, Rope = RopeLayout.Interleaved, RotaryDim = 10, Exports = true, Seed = 9 };

    public static TheoryData<string> LongCases => ["decode f32 77 tokens", "chunk3 bf16 70 tokens rope selected", "decode 24 items"];

    private static PagedAttentionCase Long(string name) => name switch
    {
        "decode f32 77 tokens" => new(2, 1, 4, 2, 8, 16, 77) { Ragged = true, Exports = true },
        "chunk3 bf16 70 tokens rope selected" => new(1, 3, 2, 1, 12, 5, 70) { DType = DType.BF16, Ragged = true, Selected = true, Rope = RopeLayout.HalfSplit, Compensation = true, Exports = true },
        "decode 24 items" => new(3, 1, 8, 4, 8, 4, 10) { Ragged = true, Compensation = true, Exports = true, EmptyHead = true },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(LongCases))]
    public void Forward_LongHeadsAndManyItems_MatchReference(string name)
    {
        var c = Long(name);
        var data = c.Build();
        c.AssertMatches(ReferencePagedAttention.Forward(data.Inputs), c.Run(data, fixture.Backend), Tolerance.GpuF32.ForDot(8));
    }

    [Fact]
    public void Forward_OutputAndExports_AreBitReproducible()
    {
        var data = Everything.Build();
        var first = Everything.Run(data, fixture.Backend);
        var second = Everything.Run(data, fixture.Backend);
        SameBits(first.Dest, second.Dest, "dest");
        SameBits(first.KeyTotals!, second.KeyTotals!, "KeyTotals");
        SameBits(first.WindowTotals!, second.WindowTotals!, "WindowTotals");
        SameBits(first.Probabilities!, second.Probabilities!, "Probabilities");
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void Forward_MatchesCpuBackend_WithTheSameExportSupport(DType dtype)
    {
        var c = Everything with { DType = dtype };
        var data = c.Build();
        var cpu = c.Run(data, fixture.Cpu);
        var gpu = c.Run(data, fixture.Backend);
        TensorAssert.Close(Doubles(cpu.Dest), gpu.Dest, Tolerance.GpuF32, "dest vs CPU");
        foreach (var (name, x, y) in new[] { ("KeyTotals", cpu.KeyTotals!, gpu.KeyTotals!), ("WindowTotals", cpu.WindowTotals!, gpu.WindowTotals!), ("Probabilities", cpu.Probabilities!, gpu.Probabilities!) })
        {
            // Index parity: exactly the attended tokens are nonzero on both backends.
            TensorAssert.Equal(Support(x), Support(y), name + " support vs CPU");
            TensorAssert.Close(Doubles(x), y, Tolerance.GpuF32.ForDot(c.Rows), name + " vs CPU");
        }
    }

    [Fact]
    public void Forward_OutOfRangePageIds_AreSkipped()
    {
        // Without RoPE a token whose page id is out of range behaves as if unselected: compare with the reference
        // over a selection of every other token.
        var c = new PagedAttentionCase(2, 2, 4, 2, 8, 4, 11) { Ragged = true, Compensation = true, Exports = true };
        var data = c.Build();
        var x = data.Inputs;
        var corrupt = new[] { (Head: 0, Block: 0, Page: 1 << 20), (Head: 1, Block: 1, Page: -2), (Head: 3, Block: 2, Page: data.Pages) };
        var original = (int[])x.BlockTables.Clone();
        foreach (var (head, block, page) in corrupt)
        {
            Assert.True(block * c.P < x.Lengths[head], "the corrupted block must be in use");
            x.BlockTables[head * x.MaxBlocks + block] = page;
        }
        var actual = c.Run(data, fixture.Backend);

        int heads = c.B * c.Hkv, maxSel = x.Lengths.Max();
        var sel = new int[heads * maxSel];
        var counts = new int[heads];
        for (int head = 0; head < heads; head++)
            for (int token = 0; token < x.Lengths[head]; token++)
                if (!corrupt.Any(k => k.Head == head && k.Block == token / c.P)) sel[head * maxSel + counts[head]++] = token;
        var expected = ReferencePagedAttention.Forward(new ReferencePagedAttention.Inputs
        {
            Batch = x.Batch, QueryLength = x.QueryLength, Heads = x.Heads, KvHeads = x.KvHeads, HeadDim = x.HeadDim,
            PageTokens = x.PageTokens, MaxBlocks = x.MaxBlocks, Scale = x.Scale, Q = x.Q, KeyPages = x.KeyPages,
            ValuePages = x.ValuePages, BlockTables = original, Lengths = x.Lengths, SelectedKeys = sel, SelectedCounts = counts,
            MaxSelected = maxSel, CompensationKeys = x.CompensationKeys, CompensationValues = x.CompensationValues,
            CompensationBias = x.CompensationBias, WindowFromRow = x.WindowFromRow, ExportKeys = x.ExportKeys,
        });
        c.AssertMatches(expected, actual, Tolerance.GpuF32);
    }

    [Fact]
    public void Forward_OutOfRangeLengthsCountsAndSelections_StayInBounds()
    {
        // Garbage a host check would have refused: negative lengths and counts, counts past MaxSel, selected tokens
        // outside the head. Every output is still written (no NaN from the poison) and finite.
        var c = new PagedAttentionCase(2, 2, 4, 2, 8, 4, 11) { Selected = true, Ragged = true, Exports = true };
        var data = c.Build();
        var x = data.Inputs;
        x.Lengths[0] = -3;
        x.SelectedCounts![1] = x.MaxSelected + 7;
        x.SelectedCounts[2] = -1;
        x.SelectedKeys![3 * x.MaxSelected] = 1 << 20;
        x.SelectedKeys[3 * x.MaxSelected + 1] = -9;
        var actual = c.Run(data, fixture.Backend);
        Assert.All(actual.Dest, v => Assert.True(float.IsFinite(v)));
        Assert.All(actual.KeyTotals!, v => Assert.True(float.IsFinite(v)));
        Assert.All(actual.WindowTotals!, v => Assert.True(float.IsFinite(v)));
        Assert.All(actual.Probabilities!, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Forward_SteadyState_AllocatesNoFreshDeviceMemory()
    {
        var data = Everything.Build();
        Everything.Run(data, fixture.Backend);
        long fresh = fixture.Backend.Memory.FreshAllocations;
        Everything.Run(data, fixture.Backend);
        Assert.Equal(fresh, fixture.Backend.Memory.FreshAllocations);
    }

    [Fact]
    public void KvPages_ConversionBits_AreIdenticalToCpu()
    {
        // Written into 16-bit pages: an F32 sweep of NaN payloads, infinities, subnormals, ties and overflow edges.
        uint[] special =
        [
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,
            0x7FBFFFFF, 0x7FFFFFFF, 0x7FC02000, 0x00000001, 0x807FFFFF, 0x477FEFFF, 0x477FF000, 0x477FF001,
            0x38800000, 0x387FF000, 0x33000000, 0x33000001, 0x3F801000, 0x3F803000, 0x3F808000, 0x3F818000,
            0x7F7FFFFF, 0x7F7F8000,
        ];
        var rng = new Random(3);
        var sweep = special.Concat(Enumerable.Range(0, 2048 - special.Length).Select(_ => (uint)rng.NextInt64(0, 1L << 32))).ToArray();
        foreach (var pages in (DType[])[DType.F16, DType.BF16, DType.F32])
            SameBitsAsCpu(MemoryMarshal.AsBytes(sweep.AsSpan()).ToArray(), DType.F32, pages, write: true);
        // Every 16-bit pattern (signalling NaNs included) read out of 16-bit pages into each type, and written.
        var all = new ushort[65536];
        for (int i = 0; i < all.Length; i++) all[i] = (ushort)i;
        var bytes = MemoryMarshal.AsBytes(all.AsSpan()).ToArray();
        foreach (var from in (DType[])[DType.F16, DType.BF16])
            foreach (var to in (DType[])[DType.F32, DType.F16, DType.BF16])
            {
                SameBitsAsCpu(bytes, from, to, write: false);
                SameBitsAsCpu(bytes, from, to, write: true);
            }
    }

    [Fact]
    public void KvPages_OutOfRangeSlots_SkipWritesAndReadZeroRows()
    {
        const int pages = 2, p = 3, d = 4;
        var be = fixture.Backend;
        var before = TestData.Uniform(pages * p * d, 4);
        using var pool = Tensor.From<float>(before, new Shape(pages, p, d), be);
        using var rows = Tensor.From<float>(TestData.Uniform(3 * d, 5), new Shape(3, d), be);
        using var slots = Tensor.From<int>([pages * p, -1, 4], new Shape(3), be);
        KvPages.Write(rows, pool, slots);
        using var back = Tensor.From<float>(Enumerable.Repeat(float.NaN, 3 * d).ToArray(), new Shape(3, d), be);
        KvPages.Read(pool, slots, back);
        be.Synchronize();
        var expectedPool = (float[])before.Clone();
        var r = rows.ToArray<float>();
        Array.Copy(r, 2 * d, expectedPool, 4 * d, d);
        Assert.Equal(expectedPool, pool.ToArray<float>());
        var expectedBack = new float[3 * d];
        Array.Copy(r, 2 * d, expectedBack, 2 * d, d);
        Assert.Equal(expectedBack, back.ToArray<float>());
    }

    // Moves `count` elements as one page row of D = count through KvPages on both backends and compares the bits of
    // the destination (pages when writing, rows when reading).
    private void SameBitsAsCpu(byte[] source, DType from, DType to, bool write)
    {
        int count = source.Length / from.SizeInBytes();
        var cpu = MoveOn(fixture.Cpu, source, count, from, to, write);
        var gpu = MoveOn(fixture.Backend, source, count, from, to, write);
        int size = to.SizeInBytes();
        for (int i = 0; i < count; i++)
        {
            ulong c = size == 2 ? BitConverter.ToUInt16(cpu, i * 2) : BitConverter.ToUInt32(cpu, i * 4);
            ulong g = size == 2 ? BitConverter.ToUInt16(gpu, i * 2) : BitConverter.ToUInt32(gpu, i * 4);
            if (c != g)
                Assert.Fail($"{(write ? "write" : "read")} {from}->{to} element {i}: cpu 0x{c:X}, emulator 0x{g:X}");
        }
    }

    private static byte[] MoveOn(IBackend backend, byte[] source, int count, DType from, DType to, bool write)
    {
        // Two page rows: the data goes to (or comes from) row 1.
        using var slots = Tensor.From<int>([1], new Shape(1), backend);
        using var src = write
            ? Tensor.FromBytes(source, new Shape(1, count), from, backend)
            : Tensor.FromBytes([.. new byte[count * from.SizeInBytes()], .. source], new Shape(1, 2, count), from, backend);
        using var dst = write ? Tensor.Zeros(new Shape(1, 2, count), to, backend) : Tensor.Zeros(new Shape(1, count), to, backend);
        if (write) KvPages.Write(src, dst, slots);
        else KvPages.Read(src, slots, dst);
        backend.Synchronize();
        var all = new byte[dst.ElementCount * to.SizeInBytes()];
        backend.CopyToHost(dst.Storage, dst.ByteOffset, all);
        return write ? all[(count * to.SizeInBytes())..] : all;
    }

    private static void SameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: {expected[i]:R} then {actual[i]:R}");
    }

    private static int[] Support(float[] x) => x.Select(v => v != 0f ? 1 : 0).ToArray();

    private static double[] Doubles(float[] x) => x.Select(v => (double)v).ToArray();
}

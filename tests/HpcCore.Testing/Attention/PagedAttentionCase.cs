// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// One paged-attention test case for every backend: a seeded paged cache with the shapes a KV policy leaves behind
// (heads of different lengths, pages in shuffled order with free pages between them, odd page fills, rows no token
// owns set to NaN so any over-read shows), the options, PagedAttention.Forward on a backend with every output
// poisoned first, and ReferencePagedAttention on the same (rounded) values.
namespace HpcCore.Testing;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing.Reference;

/// <summary>
/// One paged-attention case. Tq = 0 means prefill (Tq = Tokens); Tokens is the longest head; Ragged gives the other
/// heads random lengths in [Tokens/2, Tokens] (fewer than Tq in a prefill: its first rows see nothing; one of them 0 with EmptyHead); Selected adds per-head ascending selections; Compensation a
/// compensation key (bias log n, -inf for every third head); Rope renumbers positions (RotaryDim 0: all of D);
/// Exports asks for all three exports, ExtraKeys wider than the longest head.
/// </summary>
public sealed record PagedAttentionCase(int B, int Tq, int H, int Hkv, int D, int P, int Tokens)
{
    public bool Ragged { get; init; }
    public bool EmptyHead { get; init; }
    public DType DType { get; init; } = DType.F32;
    public bool Selected { get; init; }
    public bool Compensation { get; init; }
    public RopeLayout? Rope { get; init; }
    public int RotaryDim { get; init; }
    public bool Exports { get; init; }
    public int ExtraKeys { get; init; } = 3;
    public int Seed { get; init; } = 1;

    /// <summary>Query rows of the chunk.</summary>
    public int Rows => Tq == 0 ? Tokens : Tq;

    /// <summary>The case with every head capped at <paramref name="tokens"/> tokens (emulators run tiny shapes).</summary>
    public PagedAttentionCase Capped(int tokens) => Tokens <= tokens ? this : this with { Tokens = tokens };

    /// <summary>The case's host data.</summary>
    public sealed class Data
    {
        public required ReferencePagedAttention.Inputs Inputs { get; init; }
        public required int Pages { get; init; }
        public required float[] KeysF32 { get; init; }
        public required float[] ValuesF32 { get; init; }
    }

    /// <summary>Builds the seeded host data (pages hold values already rounded to <see cref="DType"/>).</summary>
    public Data Build()
    {
        var rng = new Random(Seed);
        int rows = Rows, heads = B * Hkv;
        var lengths = new int[heads];
        for (int i = 0; i < heads; i++)
            lengths[i] = Ragged ? rng.Next(Tokens / 2, Tokens + 1) : Tokens;
        lengths[rng.Next(heads)] = Tokens;
        if (EmptyHead && heads > 1) lengths[(Array.IndexOf(lengths, Tokens) + 1) % heads] = 0;

        // Pages: each head's blocks drawn from a shuffled pool with a few free pages left as holes.
        int maxBlocks = (Tokens + P - 1) / P + 1;
        int used = lengths.Sum(n => (n + P - 1) / P), pages = used + 3;
        var order = Enumerable.Range(0, pages).OrderBy(_ => rng.Next()).ToArray();
        var tables = new int[heads * maxBlocks];
        Array.Fill(tables, -1); // unused entries: never read
        var owned = new bool[pages * P];
        for (int i = 0, next = 0; i < heads; i++)
            for (int blk = 0; blk < (lengths[i] + P - 1) / P; blk++)
            {
                int page = order[next++];
                tables[i * maxBlocks + blk] = page;
                for (int r = 0; r < Math.Min(P, lengths[i] - blk * P); r++) owned[page * P + r] = true;
            }
        var keys = TestData.Uniform(pages * P * D, Seed + 1);
        var values = TestData.Uniform(pages * P * D, Seed + 2);
        for (int r = 0; r < pages * P; r++)
            if (!owned[r])
                for (int c = 0; c < D; c++) keys[r * D + c] = values[r * D + c] = float.NaN;
        var q = TestData.Uniform(B * rows * H * D, Seed + 3, -2f, 2f);

        int[]? sel = null, counts = null;
        int maxSel = 0;
        if (Selected)
        {
            maxSel = Tokens / 2 + 2;
            sel = new int[heads * maxSel];
            counts = new int[heads];
            for (int i = 0; i < heads; i++)
            {
                int n = Math.Min(lengths[i], rng.Next(0, maxSel));
                var pick = Enumerable.Range(0, lengths[i]).OrderBy(_ => rng.Next()).Take(n).ToList();
                if (n > 0 && !pick.Contains(lengths[i] - 1) && rng.Next(2) == 0) pick[0] = lengths[i] - 1;
                pick.Sort();
                counts[i] = n;
                for (int j = 0; j < maxSel; j++) sel[i * maxSel + j] = j < n ? pick[j] : -5; // past the count: ignored
            }
        }
        float[]? ck = null, cv = null, cb = null;
        if (Compensation)
        {
            ck = TestData.Uniform(heads * D, Seed + 4);
            cv = TestData.Uniform(heads * D, Seed + 5);
            cb = new float[heads];
            for (int i = 0; i < heads; i++) cb[i] = i % 3 == 1 ? float.NegativeInfinity : MathF.Log(1 + rng.Next(50));
        }
        var inputs = new ReferencePagedAttention.Inputs
        {
            Batch = B, QueryLength = rows, Heads = H, KvHeads = Hkv, HeadDim = D, PageTokens = P, MaxBlocks = maxBlocks,
            Scale = 1f / MathF.Sqrt(D), Q = q, KeyPages = Round(keys), ValuePages = Round(values), BlockTables = tables,
            Lengths = lengths, SelectedKeys = sel, SelectedCounts = counts, MaxSelected = maxSel,
            CompensationKeys = ck, CompensationValues = cv, CompensationBias = cb,
            RopeKeys = Rope is not null, Interleaved = Rope != RopeLayout.HalfSplit, RotaryDim = RotaryDim == 0 ? D : RotaryDim,
            WindowFromRow = rows / 2, ExportKeys = Tokens + ExtraKeys,
        };
        return new Data { Inputs = inputs, Pages = pages, KeysF32 = keys, ValuesF32 = values };
    }

    private float[] Round(float[] x) => DType switch
    {
        DType.F16 => x.Select(v => (float)ReferenceConvert.ToF16(v)).ToArray(),
        DType.BF16 => x.Select(v => ReferenceConvert.FromBf16(ReferenceConvert.ToBf16(v))).ToArray(),
        _ => x,
    };

    /// <summary>Pages of <see cref="DType"/> on <paramref name="backend"/> holding <paramref name="x"/> [pages, P, D] rounded.</summary>
    public Tensor PagesOn(float[] x, int pages, IBackend backend)
    {
        var shape = new Shape(pages, P, D);
        return DType switch
        {
            DType.F16 => Tensor.From<Half>(x.Select(ReferenceConvert.ToF16).ToArray(), shape, backend),
            DType.BF16 => Tensor.From<ushort>(x.Select(ReferenceConvert.ToBf16).ToArray(), shape, backend),
            _ => Tensor.From<float>(x, shape, backend),
        };
    }

    /// <summary>Backend outputs (host copies) of one run.</summary>
    public sealed record Result(float[] Dest, float[]? KeyTotals, float[]? WindowTotals, float[]? Probabilities);

    /// <summary>Runs PagedAttention.Forward on <paramref name="backend"/> with every output poisoned with NaN first.</summary>
    public Result Run(Data data, IBackend backend)
    {
        var x = data.Inputs;
        int rows = Rows, e = x.ExportKeys;
        var owned = new List<Tensor>();
        Tensor On<T>(T[] a, params int[] dims) where T : unmanaged
        {
            var t = Tensor.From<T>(a, new Shape(dims), backend);
            owned.Add(t);
            return t;
        }
        Tensor Poisoned(params int[] dims)
        {
            var a = new float[new Shape(dims).ElementCount];
            Array.Fill(a, float.NaN);
            return On(a, dims);
        }
        try
        {
            var q = On(x.Q, B, rows, H, D);
            var kp = PagesOn(data.KeysF32, data.Pages, backend);
            owned.Add(kp);
            var vp = PagesOn(data.ValuesF32, data.Pages, backend);
            owned.Add(vp);
            var kv = new PagedKv(kp, vp, On(x.BlockTables, B, Hkv, x.MaxBlocks), On(x.Lengths, B, Hkv));
            var dest = Poisoned(B, rows, H, D);
            Tensor? totals = Exports ? Poisoned(B, H, e) : null;
            Tensor? window = Exports ? Poisoned(B, H, e) : null;
            Tensor? probs = Exports ? Poisoned(B, rows, H, e) : null;
            var options = new PagedAttentionOptions(
                SelectedKeys: x.SelectedKeys is { } s ? On(s, B, Hkv, x.MaxSelected) : null,
                SelectedCounts: x.SelectedCounts is { } c ? On(c, B, Hkv) : null,
                CompensationKeys: x.CompensationKeys is { } ck ? On(ck, B, Hkv, D) : null,
                CompensationValues: x.CompensationValues is { } cv ? On(cv, B, Hkv, D) : null,
                CompensationBias: x.CompensationBias is { } cb ? On(cb, B, Hkv) : null,
                RenumberPositions: Rope is not null,
                Rope: new RopeOptions(Layout: Rope ?? RopeLayout.Interleaved, RotaryDim: RotaryDim),
                KeyTotals: totals, WindowTotals: window, WindowFromRow: x.WindowFromRow, Probabilities: probs);
            PagedAttention.Forward(q, kv, dest, options);
            backend.Synchronize();
            return new Result(dest.ToArray<float>(), totals?.ToArray<float>(), window?.ToArray<float>(), probs?.ToArray<float>());
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>Asserts a backend result matches the reference within <paramref name="tolerance"/>.</summary>
    public void AssertMatches(ReferencePagedAttention.Outputs expected, Result actual, Tolerance tolerance)
    {
        string what = ToString();
        TensorAssert.Close(expected.Dest, actual.Dest, tolerance, what + " dest");
        if (!Exports) return;
        TensorAssert.Close(expected.KeyTotals, actual.KeyTotals!, tolerance, what + " KeyTotals");
        TensorAssert.Close(expected.WindowTotals, actual.WindowTotals!, tolerance, what + " WindowTotals");
        TensorAssert.Close(expected.Probabilities, actual.Probabilities!, tolerance, what + " Probabilities");
    }
}

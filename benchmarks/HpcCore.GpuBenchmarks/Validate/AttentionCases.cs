// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Attention in every mode, GPU vs CPU backend: ViT-B shapes (197 tokens, batch 8; 577, batch 2) in all modes, long
// prefill (2880, 16384) plain/causal/block-sparse/selected keys, and decode (one query over 4k and 32k keys, the split
// flash-decoding path on a GPU) in f32 and f16.
namespace HpcCore.GpuBenchmarks.Validate;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>The attention validation cases.</summary>
public static class AttentionCases
{
    /// <summary>Every attention mode the options allow (besides the unfused reference variant).</summary>
    public static readonly string[] AllModes =
        ["plain", "causal", "window", "padding", "keylengths", "keybias", "posbias", "softcap", "gqa", "selected", "exports", "blockmask", "keymeans"];

    /// <summary>The cases at <paramref name="scale"/>.</summary>
    public static IEnumerable<ValidateCase> All(ValidateScale scale)
    {
        bool smoke = scale == ValidateScale.Small;
        // (B, H, Hkv, Tq, Tk, D, modes)
        (int, int, int, int, int, int, string[])[] shapes = scale switch
        {
            ValidateScale.Small =>
            [
                (2, 2, 2, 9, 9, 8, AllModes),
                (1, 4, 4, 33, 33, 8, ["plain", "causal", "blockmask", "selected"]),
                (1, 4, 1, 1, 70, 16, ["plain", "keylengths", "gqa"]),
            ],
            ValidateScale.Medium =>
            [
                (1, 12, 12, 197, 197, 64, AllModes),
                (1, 4, 4, 577, 577, 64, AllModes),
                (1, 2, 2, 2880, 2880, 64, ["plain", "causal", "blockmask", "selected", "keymeans"]),
                (1, 8, 8, 1, 4096, 128, ["plain", "keylengths", "gqa", "exports"]),
            ],
            _ =>
            [
                (8, 12, 12, 197, 197, 64, AllModes),
                (2, 12, 12, 577, 577, 64, AllModes),
                (1, 12, 12, 2880, 2880, 64, ["plain", "causal", "blockmask", "selected", "keymeans"]),
                (1, 4, 4, 16384, 16384, 64, ["plain", "causal"]),
                (1, 32, 32, 1, 4096, 128, ["plain", "keylengths", "gqa", "exports"]),
                (1, 32, 32, 1, 32768, 128, ["plain", "keylengths", "gqa"]),
            ],
        };
        foreach (var (b, h, hkv, tq, tk, d, modes) in shapes)
            foreach (string mode in modes)
                foreach (string dt in new[] { "f32", "f16" })
                {
                    int kvHeads = mode == "gqa" ? Math.Max(1, h / 4) : hkv;
                    string key = $"B{b}xH{h}xHkv{kvHeads}xTq{tq}xTk{tk}xD{d}";
                    yield return new ValidateCase($"attention/{mode}", key, dt, be => Run(new Scope(be), mode, b, h, kvHeads, tq, tk, d, dt, smoke));
                }
    }

    private static CaseOutput[] Run(Scope s, string mode, int b, int h, int hkv, int tq, int tk, int d, string dt, bool smoke)
    {
        using (s)
        {
            var q = s.F(Inputs.Uniform((long)b * tq * h * d, 1, dt), new Shape(b, tq, h, d), dt);
            var k = s.F(Inputs.Uniform((long)b * tk * hkv * d, 2, dt), new Shape(b, tk, hkv, d), dt);
            var v = s.F(Inputs.Uniform((long)b * tk * hkv * d, 3, dt), new Shape(b, tk, hkv, d), dt);
            var dest = s.Poison(new Shape(b, tq, h, d), dt == "f16" ? DType.F16 : DType.F32);
            var o = default(AttentionOptions);
            Tensor? totals = null, rowProbs = null, means = null;
            int blockSize = smoke ? 4 : 64;
            switch (mode)
            {
                case "causal":
                    o = o with { Causal = true };
                    break;
                case "window":
                    o = o with { Causal = true, WindowLeft = Math.Max(1, tk / 8) };
                    break;
                case "padding":
                    {
                        var keep = new byte[b * tk];
                        var rng = new Random(4);
                        for (int i = 0; i < keep.Length; i++) keep[i] = (byte)(i % tk == 0 || rng.NextDouble() < 0.9 ? 1 : 0);
                        o = o with { KeyPaddingMask = s.U8(keep, new Shape(b, tk)) };
                        break;
                    }
                case "keylengths":
                    o = o with { KeyLengths = s.I(Enumerable.Range(0, b).Select(i => Math.Max(1, tk - 3 - 5 * i)).ToArray(), new Shape(b)) };
                    break;
                case "keybias":
                    // ToMe's proportional attention: log of merged-token sizes.
                    o = o with { KeyBias = s.F(Inputs.Ints((long)b * tk, 5, 1, 5).Select(n => MathF.Log(n)).ToArray(), new Shape(b, tk)) };
                    break;
                case "posbias":
                    o = o with { PositionBias = s.F(Inputs.Uniform((long)h * tq * tk, 6, "f32", -2f, 2f), new Shape(h, tq, tk)) };
                    break;
                case "softcap":
                    o = o with { Scale = 1f, SoftCap = 5f };
                    break;
                case "selected":
                    {
                        int nSel = Math.Max(1, tk / 4);
                        o = o with { SelectedKeys = s.I(Inputs.Distinct(b * hkv, nSel, tk, 7), new Shape(b, hkv, nSel)) };
                        break;
                    }
                case "exports":
                    {
                        int[] rows = tq == 1 ? [0] : [0, tq / 2, tq - 1];
                        totals = s.Poison(new Shape(b, h, tk), DType.F32);
                        rowProbs = s.Poison(new Shape(b, h, rows.Length, tk), DType.F32);
                        o = o with { KeyTotals = totals, RowIndices = s.I(rows, new Shape(rows.Length)), RowProbabilities = rowProbs };
                        break;
                    }
                case "blockmask":
                    {
                        int qb = (tq + blockSize - 1) / blockSize, kb = (tk + blockSize - 1) / blockSize;
                        var keep = new byte[qb * kb];
                        var rng = new Random(8);
                        for (int i = 0; i < qb; i++)
                            for (int j = 0; j < kb; j++) keep[i * kb + j] = (byte)(i == j || j == 0 || rng.NextDouble() < 0.3 ? 1 : 0);
                        o = o with { BlockMask = s.U8(keep, new Shape(1, 1, qb, kb)), BlockSize = blockSize };
                        break;
                    }
                case "keymeans":
                    means = s.Poison(new Shape(b, tk, d), DType.F32);
                    o = o with { KeyMeans = means };
                    break;
            }
            Attention.Forward(q, k, v, dest, o);
            var outputs = new List<CaseOutput> { s.Floats("out", dest) };
            if (totals is not null) outputs.Add(s.Floats("key_totals", totals));
            if (rowProbs is not null) outputs.Add(s.Floats("row_probabilities", rowProbs));
            if (means is not null) outputs.Add(s.Floats("key_means", means));
            return [.. outputs];
        }
    }
}

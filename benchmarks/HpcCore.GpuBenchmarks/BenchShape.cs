// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks;

/// <summary>
/// One attention shape: q [B, Tq, H, D], k and v [B, Tk, H, D]. <see cref="Key"/> is the join key shared with
/// tools/gpu/sdpa_bench.py (same spelling there).
/// </summary>
public sealed record BenchShape(int B, int H, int Tq, int Tk, int D, bool Causal)
{
    /// <summary>The shapes of the full run (FlashAttention's benchmark conventions: D 64, self-attention unless noted).</summary>
    public static IReadOnlyList<BenchShape> Full { get; } =
    [
        new(1, 12, 1024, 1024, 64, false),
        new(1, 12, 197, 197, 64, false),   // ViT-B/16 at 224 px
        new(8, 12, 197, 197, 64, false),
        new(1, 32, 2048, 2048, 64, true),
        new(1, 32, 4096, 4096, 64, true),
        new(1, 32, 16384, 16384, 64, true),
        new(1, 32, 1, 16384, 64, false),   // decode: one query over a 16k KV cache (split over keys)
    ];

    /// <summary>The tiny shapes of <c>--smoke</c>: a causal prefill over several tiles and a split decode.</summary>
    public static IReadOnlyList<BenchShape> Smoke { get; } = [new(1, 2, 9, 9, 8, true), new(1, 2, 1, 40, 8, false)];

    /// <summary>Join key, e.g. <c>B1xH32xTq2048xTk2048xD64-causal</c>.</summary>
    public string Key => $"B{B}xH{H}xTq{Tq}xTk{Tk}xD{D}{(Causal ? "-causal" : "")}";

    /// <summary>
    /// Matmul FLOPs, 4 B H Tq Tk D (two GEMMs), halved for causal self-attention (the FlashAttention convention).
    /// </summary>
    public double Flops => 4.0 * B * H * Tq * Tk * D / (Causal && Tq == Tk ? 2 : 1);

    /// <summary>Bytes of Q, K, V and the output at <paramref name="elementSize"/> bytes each (the memory floor).</summary>
    public double Bytes(int elementSize) => (2.0 * B * Tq * H * D + 2.0 * B * Tk * H * D) * elementSize;
}

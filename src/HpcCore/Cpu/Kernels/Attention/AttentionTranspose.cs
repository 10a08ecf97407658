// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The two transposes at the ends of a fused attention tile: query rows (D contiguous floats each, strided [B, T, H, D]
// rows) into the packed, pre-scaled Qt [D, lanes] the score micro-kernel reads, and the unnormalised O^T [D, lanes]
// back into output rows divided by each row's l. Element by element they were about 7% of a B1 H12 T197 D64 tile
// and 5% of a T1024 one (a strided scalar store or load per float); 8x8 blocks transposed in registers (3 rounds of
// 8 shuffles, the usual unpack / shuffle / permute2f128 sequence) move 8 floats per instruction instead.
// Both ISAs of the tile use these: AVX2 is present wherever the fused tile runs (Vector256 accelerated).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Query packing and output unpacking of the fused attention tile, in 8x8 register transposes.</summary>
internal static unsafe class AttentionTranspose
{
    /// <summary>
    /// qt[k * lanes + i] = rows[i][k] * scale for i &lt; <paramref name="lanes"/> (a multiple of 8) and k &lt; d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackQueries(float** rows, int lanes, int d, float scale, float* qt)
    {
        var s = Vector256.Create(scale);
        int d8 = d & ~7;
        for (int i = 0; i < lanes; i += 8)
        {
            float** r = rows + i;
            for (int k = 0; k < d8; k += 8)
            {
                RegisterTranspose.Store8x8(
                    Vector256.Load(r[0] + k) * s, Vector256.Load(r[1] + k) * s, Vector256.Load(r[2] + k) * s, Vector256.Load(r[3] + k) * s,
                    Vector256.Load(r[4] + k) * s, Vector256.Load(r[5] + k) * s, Vector256.Load(r[6] + k) * s, Vector256.Load(r[7] + k) * s,
                    qt + (long)k * lanes + i, lanes);
            }
            for (int k = d8; k < d; k++)
                for (int c = 0; c < 8; c++) qt[(long)k * lanes + i + c] = r[c][k] * scale;
        }
    }

    /// <summary>
    /// rows[i][k] = ot[k * lanes + i] * inv[i] for i &lt; <paramref name="count"/> (at most lanes, a multiple of 8)
    /// and k &lt; d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreOutputs(float* ot, int lanes, int count, int d, float* inv, float** rows)
    {
        float* block = stackalloc float[64];
        int d8 = d & ~7;
        for (int i = 0; i < count; i += 8)
        {
            int n = Math.Min(8, count - i);
            for (int k = 0; k < d8; k += 8)
            {
                float* src = ot + (long)k * lanes + i;
                RegisterTranspose.Store8x8(
                    Vector256.Load(src), Vector256.Load(src + lanes), Vector256.Load(src + 2 * lanes), Vector256.Load(src + 3 * lanes),
                    Vector256.Load(src + 4 * lanes), Vector256.Load(src + 5 * lanes), Vector256.Load(src + 6 * lanes), Vector256.Load(src + 7 * lanes),
                    block, 8);
                for (int c = 0; c < n; c++) (Vector256.Load(block + 8 * c) * Vector256.Create(inv[i + c])).Store(rows[i + c] + k);
            }
            for (int c = 0; c < n; c++)
                for (int k = d8; k < d; k++) rows[i + c][k] = ot[(long)k * lanes + i + c] * inv[i + c];
        }
    }
}

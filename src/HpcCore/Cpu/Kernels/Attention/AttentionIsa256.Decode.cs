// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The Vector256 micro-kernels of the decode kernel (AttentionDecodeWork): the Vector512 shapes (4 rows x 4 keys of
// scores, 4 rows x 64 dims of values) need 16 accumulators plus loads, more than AVX2's 16 registers, so scores
// run 4 rows x 2 keys and values 4 rows x 16 dims (8 accumulators each).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

internal unsafe partial struct AttentionIsa256
{
    private const int DecodeBlock = AttentionDecode.KeyBlock;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> x) => Vector256.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> x)
    {
        var z = Vector128.Max(x.GetLower(), x.GetUpper());
        return Math.Max(Math.Max(z.GetElement(0), z.GetElement(1)), Math.Max(z.GetElement(2), z.GetElement(3)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> DropKeysOutside(Vector256<float> s, int* pos, int lo, int hi)
    {
        var kp = Vector256.Load(pos);
        var outside = Vector256.GreaterThan(kp, Vector256.Create(hi)) | Vector256.LessThan(kp, Vector256.Create(lo));
        return Vector256.ConditionalSelect(outside.AsSingle(), Vector256.Create(float.NegativeInfinity), s);
    }

    /// <summary>Scores of 4 rows x 2 keys per register block, reduced 8 at a time (<see cref="Sum8"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeScores(float** kRows, int nk, float** pk, float** pv, int np, float* qs, int rows, int d, float* sc)
    {
        float* tmp = stackalloc float[8];
        for (int j = 0; j < nk; j += 4)
        {
            if (Sse.IsSupported)
            {
                for (int a = j; a < Math.Min(j + 4, np); a++)
                {
                    for (int c = 0; c < d; c += 16)
                    {
                        Sse.Prefetch1(pk[a] + c);
                        Sse.Prefetch1(pv[a] + c);
                    }
                }
            }
            for (int jj = j; jj < j + 4; jj += 2)
            {
                float* k0 = kRows[jj], k1 = kRows[jj + 1];
                for (int r = 0; r < rows; r += 4)
                {
                    // Tail rows repeat the last row: the duplicates compute and store the same values.
                    int r1 = Math.Min(r + 1, rows - 1), r2 = Math.Min(r + 2, rows - 1), r3 = Math.Min(r + 3, rows - 1);
                    float* q0 = qs + (long)r * d, q1 = qs + (long)r1 * d, q2 = qs + (long)r2 * d, q3 = qs + (long)r3 * d;
                    Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
                    Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
                    for (int c = 0; c < d; c += 8)
                    {
                        var x0 = Vector256.Load(k0 + c);
                        var x1 = Vector256.Load(k1 + c);
                        var y = Vector256.Load(q0 + c);
                        a00 = Vector256.FusedMultiplyAdd(y, x0, a00); a01 = Vector256.FusedMultiplyAdd(y, x1, a01);
                        y = Vector256.Load(q1 + c);
                        a10 = Vector256.FusedMultiplyAdd(y, x0, a10); a11 = Vector256.FusedMultiplyAdd(y, x1, a11);
                        y = Vector256.Load(q2 + c);
                        a20 = Vector256.FusedMultiplyAdd(y, x0, a20); a21 = Vector256.FusedMultiplyAdd(y, x1, a21);
                        y = Vector256.Load(q3 + c);
                        a30 = Vector256.FusedMultiplyAdd(y, x0, a30); a31 = Vector256.FusedMultiplyAdd(y, x1, a31);
                    }
                    Sum8(a00, a01, a10, a11, a20, a21, a30, a31).Store(tmp);
                    float* s0 = sc + r * DecodeBlock + jj, s1 = sc + r1 * DecodeBlock + jj;
                    float* s2 = sc + r2 * DecodeBlock + jj, s3 = sc + r3 * DecodeBlock + jj;
                    s0[0] = tmp[0]; s0[1] = tmp[1];
                    s1[0] = tmp[2]; s1[1] = tmp[3];
                    s2[0] = tmp[4]; s2[1] = tmp[5];
                    s3[0] = tmp[6]; s3[1] = tmp[7];
                }
            }
        }
    }

    /// <summary>O[r, :] += sum_j p[r, j] V[j, :] in 4-row x 16-dim register blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeValues(float** vRows, int nk, float* sc, int rows, int d, float* o)
    {
        for (int r0 = 0; r0 < rows; r0 += 4)
        {
            // Tail rows repeat the last row: the duplicates compute and store the same values.
            int r1 = Math.Min(r0 + 1, rows - 1), r2 = Math.Min(r0 + 2, rows - 1), r3 = Math.Min(r0 + 3, rows - 1);
            float* p0 = sc + r0 * DecodeBlock, p1 = sc + r1 * DecodeBlock, p2 = sc + r2 * DecodeBlock, p3 = sc + r3 * DecodeBlock;
            float* o0 = o + (long)r0 * d, o1 = o + (long)r1 * d, o2 = o + (long)r2 * d, o3 = o + (long)r3 * d;
            for (int c = 0; c < d; c += 16)
            {
                Vector256<float> a00 = Vector256.Load(o0 + c), a01 = Vector256.Load(o0 + c + 8);
                Vector256<float> a10 = Vector256.Load(o1 + c), a11 = Vector256.Load(o1 + c + 8);
                Vector256<float> a20 = Vector256.Load(o2 + c), a21 = Vector256.Load(o2 + c + 8);
                Vector256<float> a30 = Vector256.Load(o3 + c), a31 = Vector256.Load(o3 + c + 8);
                for (int j = 0; j < nk; j++)
                {
                    float* v = vRows[j] + c;
                    var v0 = Vector256.Load(v);
                    var v1 = Vector256.Load(v + 8);
                    var w = Vector256.Create(p0[j]);
                    a00 = Vector256.FusedMultiplyAdd(w, v0, a00); a01 = Vector256.FusedMultiplyAdd(w, v1, a01);
                    w = Vector256.Create(p1[j]);
                    a10 = Vector256.FusedMultiplyAdd(w, v0, a10); a11 = Vector256.FusedMultiplyAdd(w, v1, a11);
                    w = Vector256.Create(p2[j]);
                    a20 = Vector256.FusedMultiplyAdd(w, v0, a20); a21 = Vector256.FusedMultiplyAdd(w, v1, a21);
                    w = Vector256.Create(p3[j]);
                    a30 = Vector256.FusedMultiplyAdd(w, v0, a30); a31 = Vector256.FusedMultiplyAdd(w, v1, a31);
                }
                a00.Store(o0 + c); a01.Store(o0 + c + 8);
                a10.Store(o1 + c); a11.Store(o1 + c + 8);
                a20.Store(o2 + c); a21.Store(o2 + c + 8);
                a30.Store(o3 + c); a31.Store(o3 + c + 8);
            }
        }
    }
}

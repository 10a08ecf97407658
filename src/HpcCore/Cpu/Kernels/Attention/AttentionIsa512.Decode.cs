// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The Vector512 micro-kernels of the decode kernel (AttentionDecodeWork): rows vectorised over D.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

internal unsafe partial struct AttentionIsa512
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> x) => Vector512.Sum(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> DropKeysOutside(Vector512<float> s, int* pos, int lo, int hi)
    {
        var kp = Vector512.Load(pos);
        var outside = Vector512.GreaterThan(kp, Vector512.Create(hi)) | Vector512.LessThan(kp, Vector512.Create(lo));
        return Vector512.ConditionalSelect(outside.AsSingle(), Vector512.Create(float.NegativeInfinity), s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> x)
    {
        var y = Vector256.Max(x.GetLower(), x.GetUpper());
        var z = Vector128.Max(y.GetLower(), y.GetUpper());
        return Math.Max(Math.Max(z.GetElement(0), z.GetElement(1)), Math.Max(z.GetElement(2), z.GetElement(3)));
    }

    /// <summary>
    /// s[r, j] = q_r . k_j for every row and the block's keys (row stride AttentionDecode.KeyBlock), in 4-row x 4-key register
    /// blocks whose 16 accumulators are reduced together (<see cref="AttentionMath.Sum16"/>), not one by one.
    /// Keys up to the next multiple of 4 past nk are computed too (Fill repeats the last row; the caller masks them).
    /// Meanwhile the np rows of the next unit (pk, pv) are prefetched into L2, four keys per step (into L1, the
    /// next unit's 64 KB evicted this one's V before Values read it: 1.4x slower at two threads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeScores(float** kRows, int nk, float** pk, float** pv, int np, float* qs, int rows, int d, float* sc)
    {
        float* tmp = stackalloc float[16];
        for (int j = 0; j < nk; j += 4)
        {
            float* k0 = kRows[j], k1 = kRows[j + 1], k2 = kRows[j + 2], k3 = kRows[j + 3];
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
            for (int r = 0; r < rows; r += 4)
            {
                // Tail rows repeat the last row: the duplicates compute and store the same values.
                int r1 = Math.Min(r + 1, rows - 1), r2 = Math.Min(r + 2, rows - 1), r3 = Math.Min(r + 3, rows - 1);
                float* q0 = qs + (long)r * d, q1 = qs + (long)r1 * d, q2 = qs + (long)r2 * d, q3 = qs + (long)r3 * d;
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
                Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
                for (int c = 0; c < d; c += 16)
                {
                    var x0 = Vector512.Load(k0 + c);
                    var x1 = Vector512.Load(k1 + c);
                    var x2 = Vector512.Load(k2 + c);
                    var x3 = Vector512.Load(k3 + c);
                    var y = Vector512.Load(q0 + c);
                    a00 = Vector512.FusedMultiplyAdd(y, x0, a00); a01 = Vector512.FusedMultiplyAdd(y, x1, a01);
                    a02 = Vector512.FusedMultiplyAdd(y, x2, a02); a03 = Vector512.FusedMultiplyAdd(y, x3, a03);
                    y = Vector512.Load(q1 + c);
                    a10 = Vector512.FusedMultiplyAdd(y, x0, a10); a11 = Vector512.FusedMultiplyAdd(y, x1, a11);
                    a12 = Vector512.FusedMultiplyAdd(y, x2, a12); a13 = Vector512.FusedMultiplyAdd(y, x3, a13);
                    y = Vector512.Load(q2 + c);
                    a20 = Vector512.FusedMultiplyAdd(y, x0, a20); a21 = Vector512.FusedMultiplyAdd(y, x1, a21);
                    a22 = Vector512.FusedMultiplyAdd(y, x2, a22); a23 = Vector512.FusedMultiplyAdd(y, x3, a23);
                    y = Vector512.Load(q3 + c);
                    a30 = Vector512.FusedMultiplyAdd(y, x0, a30); a31 = Vector512.FusedMultiplyAdd(y, x1, a31);
                    a32 = Vector512.FusedMultiplyAdd(y, x2, a32); a33 = Vector512.FusedMultiplyAdd(y, x3, a33);
                }
                AttentionMath.Sum16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33).Store(tmp);
                float* s0 = sc + r * AttentionDecode.KeyBlock + j, s1 = sc + r1 * AttentionDecode.KeyBlock + j, s2 = sc + r2 * AttentionDecode.KeyBlock + j, s3 = sc + r3 * AttentionDecode.KeyBlock + j;
                *(Vector128<float>*)s0 = Vector128.Load(tmp);
                *(Vector128<float>*)s1 = Vector128.Load(tmp + 4);
                *(Vector128<float>*)s2 = Vector128.Load(tmp + 8);
                *(Vector128<float>*)s3 = Vector128.Load(tmp + 12);
            }
        }
    }

    /// <summary>O[r, :] += sum_j p[r, j] V[j, :] in 4-row blocks (o already rescaled by alpha).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeValues(float** vRows, int nk, float* sc, int rows, int d, float* o)
    {
        for (int r0 = 0; r0 < rows; r0 += 4)
        {
            // Tail rows repeat the last row: the duplicates compute and store the same values.
            int r1 = Math.Min(r0 + 1, rows - 1), r2 = Math.Min(r0 + 2, rows - 1), r3 = Math.Min(r0 + 3, rows - 1);
            float* p0 = sc + r0 * AttentionDecode.KeyBlock, p1 = sc + r1 * AttentionDecode.KeyBlock, p2 = sc + r2 * AttentionDecode.KeyBlock, p3 = sc + r3 * AttentionDecode.KeyBlock;
            float* o0 = o + (long)r0 * d, o1 = o + (long)r1 * d, o2 = o + (long)r2 * d, o3 = o + (long)r3 * d;
            int c = 0;
            for (; c + 64 <= d; c += 64)
            {
                Vector512<float> a00 = Vector512.Load(o0 + c), a01 = Vector512.Load(o0 + c + 16), a02 = Vector512.Load(o0 + c + 32), a03 = Vector512.Load(o0 + c + 48);
                Vector512<float> a10 = Vector512.Load(o1 + c), a11 = Vector512.Load(o1 + c + 16), a12 = Vector512.Load(o1 + c + 32), a13 = Vector512.Load(o1 + c + 48);
                Vector512<float> a20 = Vector512.Load(o2 + c), a21 = Vector512.Load(o2 + c + 16), a22 = Vector512.Load(o2 + c + 32), a23 = Vector512.Load(o2 + c + 48);
                Vector512<float> a30 = Vector512.Load(o3 + c), a31 = Vector512.Load(o3 + c + 16), a32 = Vector512.Load(o3 + c + 32), a33 = Vector512.Load(o3 + c + 48);
                for (int j = 0; j < nk; j++)
                {
                    float* v = vRows[j] + c;
                    var v0 = Vector512.Load(v);
                    var v1 = Vector512.Load(v + 16);
                    var v2 = Vector512.Load(v + 32);
                    var v3 = Vector512.Load(v + 48);
                    var w = Vector512.Create(p0[j]);
                    a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01);
                    a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03);
                    w = Vector512.Create(p1[j]);
                    a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11);
                    a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13);
                    w = Vector512.Create(p2[j]);
                    a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21);
                    a22 = Vector512.FusedMultiplyAdd(w, v2, a22); a23 = Vector512.FusedMultiplyAdd(w, v3, a23);
                    w = Vector512.Create(p3[j]);
                    a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31);
                    a32 = Vector512.FusedMultiplyAdd(w, v2, a32); a33 = Vector512.FusedMultiplyAdd(w, v3, a33);
                }
                a00.Store(o0 + c); a01.Store(o0 + c + 16); a02.Store(o0 + c + 32); a03.Store(o0 + c + 48);
                a10.Store(o1 + c); a11.Store(o1 + c + 16); a12.Store(o1 + c + 32); a13.Store(o1 + c + 48);
                a20.Store(o2 + c); a21.Store(o2 + c + 16); a22.Store(o2 + c + 32); a23.Store(o2 + c + 48);
                a30.Store(o3 + c); a31.Store(o3 + c + 16); a32.Store(o3 + c + 32); a33.Store(o3 + c + 48);
            }
            for (; c < d; c += 16)
            {
                Vector512<float> a0 = Vector512.Load(o0 + c), a1 = Vector512.Load(o1 + c), a2 = Vector512.Load(o2 + c), a3 = Vector512.Load(o3 + c);
                for (int j = 0; j < nk; j++)
                {
                    var v0 = Vector512.Load(vRows[j] + c);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p0[j]), v0, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p1[j]), v0, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p2[j]), v0, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p3[j]), v0, a3);
                }
                a0.Store(o0 + c); a1.Store(o1 + c); a2.Store(o2 + c); a3.Store(o3 + c);
            }
        }
    }
}

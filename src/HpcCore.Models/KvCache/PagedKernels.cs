// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// The two inner loops of <see cref="PagedAttention"/> for one kv head and its group of query heads: q.k scores and
/// the probability-weighted sum of values, page by page or through a selection. Small heads (D &lt;= 32, a multiple of
/// 8: stories260K's D = 8, small decoders' 16-32) are where a library call per key costs more than the key's work:
/// there a key is one to four 8-float vectors and the output stays in registers for the whole pass. Larger heads use
/// <see cref="TensorPrimitives"/> per key. Checked against a double reference in PagedAttentionTests.
/// </summary>
internal static class PagedKernels
{
    private const int SmallHead = 32;

    private static bool Vectorised(int d) => d <= SmallHead && d % 8 == 0 && Vector256.IsHardwareAccelerated;

    /// <summary>s[g * stride + j] = q_g . k_j * scale for the group's query heads qg [group, D] and the first n (selected) keys.</summary>
    public static void Scores(KvHeadCache head, ReadOnlySpan<float> qg, int group, ReadOnlySpan<int> sel, bool selected, int n, float scale,
        Span<float> s, int stride)
    {
        int d = head.HeadDim, p = head.PageTokens;
        ref float q = ref MemoryMarshal.GetReference(qg);
        if (selected)
        {
            for (int j = 0; j < n; j++)
            {
                int i = sel[j];
                ref float k = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(head.Page(i / p).Keys), i % p * d);
                for (int g = 0; g < group; g++) s[g * stride + j] = Dot(ref Unsafe.Add(ref q, g * d), ref k, d) * scale;
            }
            return;
        }
        bool eight = Vectorised(d) && Avx.IsSupported;
        for (int page = 0, j = 0; j < n; page++)
        {
            ref float keys = ref MemoryMarshal.GetArrayDataReference(head.Page(page).Keys);
            int m = Math.Min(p, n - j), i = 0;
            if (eight)
                for (; i + 8 <= m; i += 8, j += 8)
                for (int g = 0; g < group; g++)
                    Dot8Keys(ref Unsafe.Add(ref q, g * d), ref Unsafe.Add(ref keys, i * d), d, scale, s.Slice(g * stride + j, 8));
            for (; i < m; i++, j++)
            {
                ref float k = ref Unsafe.Add(ref keys, i * d);
                for (int g = 0; g < group; g++) s[g * stride + j] = Dot(ref Unsafe.Add(ref q, g * d), ref k, d) * scale;
            }
        }
    }

    /// <summary>og[g] = sum_j s[g * stride + j] v_j over the first n (selected) values, for each of the group's query heads.</summary>
    public static void WeightedValues(KvHeadCache head, ReadOnlySpan<float> s, int stride, int group, ReadOnlySpan<int> sel, bool selected, int n,
        Span<float> og)
    {
        int d = head.HeadDim;
        for (int g = 0; g < group; g++)
        {
            var probs = s.Slice(g * stride, n);
            var o = og.Slice(g * d, d);
            if (Vectorised(d)) SmallHeadValues(head, probs, sel, selected, o);
            else LargeHeadValues(head, probs, sel, selected, o);
        }
    }

    private static float Dot(ref float a, ref float b, int d)
    {
        if (d > SmallHead) return TensorPrimitives.Dot(MemoryMarshal.CreateReadOnlySpan(ref a, d), MemoryMarshal.CreateReadOnlySpan(ref b, d));
        if (Vectorised(d))
        {
            var acc = Vector256.LoadUnsafe(ref a) * Vector256.LoadUnsafe(ref b);
            for (int i = 8; i < d; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc);
            return Vector256.Sum(acc);
        }
        float r = 0;
        for (int i = 0; i < d; i++) r += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return r;
    }

    // Eight keys at once: each key's products folded to one 8-float vector, then a horizontal-add tree turns the
    // eight vectors into eight sums (one vector store instead of eight scalar reductions).
    private static void Dot8Keys(ref float q, ref float keys, int d, float scale, Span<float> s)
    {
        var k0 = Fold(ref q, ref keys, d);
        var k1 = Fold(ref q, ref Unsafe.Add(ref keys, d), d);
        var k2 = Fold(ref q, ref Unsafe.Add(ref keys, 2 * d), d);
        var k3 = Fold(ref q, ref Unsafe.Add(ref keys, 3 * d), d);
        var k4 = Fold(ref q, ref Unsafe.Add(ref keys, 4 * d), d);
        var k5 = Fold(ref q, ref Unsafe.Add(ref keys, 5 * d), d);
        var k6 = Fold(ref q, ref Unsafe.Add(ref keys, 6 * d), d);
        var k7 = Fold(ref q, ref Unsafe.Add(ref keys, 7 * d), d);
        // hadd pairs within 128-bit lanes: u0 = [k0 k1 k2 k3 | k0 k1 k2 k3] partials, u1 the same for k4..k7.
        var u0 = Avx.HorizontalAdd(Avx.HorizontalAdd(k0, k1), Avx.HorizontalAdd(k2, k3));
        var u1 = Avx.HorizontalAdd(Avx.HorizontalAdd(k4, k5), Avx.HorizontalAdd(k6, k7));
        var sum = Avx.Permute2x128(u0, u1, 0x20) + Avx.Permute2x128(u0, u1, 0x31);
        (sum * scale).StoreUnsafe(ref MemoryMarshal.GetReference(s));
    }

    private static Vector256<float> Fold(ref float q, ref float k, int d)
    {
        var acc = Vector256.LoadUnsafe(ref q) * Vector256.LoadUnsafe(ref k);
        for (int i = 8; i < d; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref q, (nuint)i), Vector256.LoadUnsafe(ref k, (nuint)i), acc);
        return acc;
    }

    // Up to four 8-float accumulators per key parity live in registers across all keys (two independent add chains
    // hide the add latency); one pass over the values, page by page (no division per key) unless selected.
    private static void SmallHeadValues(KvHeadCache head, ReadOnlySpan<float> probs, ReadOnlySpan<int> sel, bool selected, Span<float> o)
    {
        int d = head.HeadDim, p = head.PageTokens, chunks = d / 8;
        Accumulators a = default, b = default;
        if (selected)
        {
            int j = 0;
            for (; j + 2 <= probs.Length; j += 2)
            {
                a.Add(ref ValueOf(head, sel[j]), probs[j], chunks);
                b.Add(ref ValueOf(head, sel[j + 1]), probs[j + 1], chunks);
            }
            if (j < probs.Length) a.Add(ref ValueOf(head, sel[j]), probs[j], chunks);
        }
        else
        {
            for (int page = 0, start = 0; start < probs.Length; page++, start += p)
            {
                ref float values = ref MemoryMarshal.GetArrayDataReference(head.Page(page).Values);
                int m = Math.Min(p, probs.Length - start), j = 0;
                for (; j + 2 <= m; j += 2)
                {
                    a.Add(ref Unsafe.Add(ref values, j * d), probs[start + j], chunks);
                    b.Add(ref Unsafe.Add(ref values, (j + 1) * d), probs[start + j + 1], chunks);
                }
                if (j < m) a.Add(ref Unsafe.Add(ref values, j * d), probs[start + j], chunks);
            }
        }
        ref float dst = ref MemoryMarshal.GetReference(o);
        (a.C0 + b.C0).StoreUnsafe(ref dst);
        if (chunks > 1) (a.C1 + b.C1).StoreUnsafe(ref dst, 8);
        if (chunks > 2) (a.C2 + b.C2).StoreUnsafe(ref dst, 16);
        if (chunks > 3) (a.C3 + b.C3).StoreUnsafe(ref dst, 24);
    }

    private struct Accumulators
    {
        public Vector256<float> C0, C1, C2, C3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(ref float v, float weight, int chunks)
        {
            var w = Vector256.Create(weight);
            C0 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v), C0);
            if (chunks > 1) C1 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, 8), C1);
            if (chunks > 2) C2 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, 16), C2);
            if (chunks > 3) C3 = Vector256.FusedMultiplyAdd(w, Vector256.LoadUnsafe(ref v, 24), C3);
        }
    }

    private static ref float ValueOf(KvHeadCache head, int i) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(head.Page(i / head.PageTokens).Values), i % head.PageTokens * head.HeadDim);

    private static void LargeHeadValues(KvHeadCache head, ReadOnlySpan<float> probs, ReadOnlySpan<int> sel, bool selected, Span<float> o)
    {
        int d = head.HeadDim;
        o.Clear();
        for (int j = 0; j < probs.Length; j++)
        {
            var v = head.Value(selected ? sel[j] : j);
            if (d > SmallHead) TensorPrimitives.MultiplyAdd(v, probs[j], o, o);
            else
                for (int i = 0; i < d; i++) o[i] += probs[j] * v[i];
        }
    }
}

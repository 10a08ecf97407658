// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// KeyMeans export of Attention.Forward: K [B, Tk, Hkv, D] averaged over the kv heads into F32 [B, Tk, D] (ToMe's merge
// metric k.mean over heads, Bolya et al. 2023, "Token Merging: Your ViT But Faster", section 3). A separate
// elementwise kernel: one thread per output element sums Hkv widened elements in F32 (grid-stride). It reads K once
// more instead of being fused into the attention tiles, whose groups each see one kv head only. Kernels never throw.
using ILGPU;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims, offsets and strides of <see cref="AttentionKeyMeansKernel"/>.</summary>
internal readonly struct KeyMeansParams(in AttentionArgs a)
{
    public readonly int Batch = a.Batch, Tk = a.KeyLength, Hkv = a.KvHeads, D = a.HeadDim;
    public readonly long OffK = a.K.Offset, KsB = a.KStrides.Batch, KsT = a.KStrides.Token, KsH = a.KStrides.Head;
    public readonly long OffMeans = a.KeyMeans?.Offset ?? 0;
}

/// <summary>K averaged over the kv heads.</summary>
internal static class AttentionKeyMeansKernel
{
    /// <param name="k">Storage of K [B, Tk, Hkv, D].</param>
    /// <param name="means">Storage of KeyMeans F32 [B, Tk, D] (contiguous).</param>
    /// <param name="p">Dims, offsets and strides.</param>
    internal static void Kernel<T, TElem>(ArrayView<T> k, ArrayView<float> means, KeyMeansParams p)
        where T : unmanaged
        where TElem : struct, IAttentionElement<T>
    {
        long count = (long)p.Batch * p.Tk * p.D;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < count; i += stride)
        {
            int x = (int)(i % p.D);
            long bt = i / p.D;
            int t = (int)(bt % p.Tk), b = (int)(bt / p.Tk);
            long at = p.OffK + b * p.KsB + t * p.KsT + x;
            float sum = 0f;
            for (int kvh = 0; kvh < p.Hkv; kvh++) sum += default(TElem).Load(k[at + kvh * p.KsH]);
            means[p.OffMeans + i] = sum / p.Hkv;
        }
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Passes around the attention kernels: F16/BF16 operands are widened once into pooled contiguous F32 copies (the
// tile kernel reads every K/V row Tq/32 times, so converting per tile would redo the widening per query tile; the
// decode kernel reads each row once and widens its K/V per key block instead: AttentionHalf), the F32 result is rounded to nearest even into the destination; and the KeyMeans export
// (ToMe's merge metric, Bolya et al. 2023, Sec. 3: keys averaged over heads) is one pass over (batch, token).
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>Converts [B, T, H, D] rows between a strided F16/BF16 operand and a contiguous F32 copy.</summary>
internal unsafe struct AttentionCastWork : IParallelBody
{
    /// <summary>The F16/BF16 operand (element [0, 0, 0, 0]) and its element strides.</summary>
    public ushort* Half;
    public HeadStrides Strides;

    /// <summary>The contiguous F32 copy [B, T, H, D].</summary>
    public float* Single;

    public int T, H, D, Items;
    public long Rows;
    public DType DType;

    /// <summary>True: F32 copy -> operand (rounded to nearest even); false: operand -> F32 copy.</summary>
    public bool Narrow;

    /// <inheritdoc/>
    public readonly void Invoke(int item)
    {
        var (start, end) = CpuKernels.Range(Rows, Items, item);
        for (long r = start; r < end; r++)
        {
            long bt = r / H;
            int h = (int)(r - bt * H), t = (int)(bt % T);
            long b = bt / T;
            ushort* half = Half + b * Strides.Batch + t * Strides.Token + h * Strides.Head;
            float* single = Single + r * D;
            if (Narrow)
            {
                if (DType == DType.F16) TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(single, D), new Span<System.Half>(half, D));
                else CpuKernels.F32ToBf16(single, half, D);
            }
            else
            {
                if (DType == DType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<System.Half>(half, D), new Span<float>(single, D));
                else CpuKernels.Bf16ToF32(half, single, D);
            }
        }
    }
}

/// <summary>KeyMeans[b, t, :] = mean over kv heads of K[b, t, hkv, :], for a range of (b, t) per item.</summary>
internal unsafe struct AttentionKeyMeansWork : IParallelBody
{
    public AttentionProblem P;
    public float* Means;
    public int Items;

    /// <inheritdoc/>
    public readonly void Invoke(int item)
    {
        int d = P.D;
        float inv = 1f / P.KvHeads;
        var (start, end) = CpuKernels.Range((long)P.Batch * P.Tk, Items, item);
        for (long bt = start; bt < end; bt++)
        {
            long b = bt / P.Tk, t = bt - b * P.Tk;
            float* k = P.K + b * P.Ks.Batch + t * P.Ks.Token;
            var mean = new Span<float>(Means + bt * d, d);
            new ReadOnlySpan<float>(k, d).CopyTo(mean);
            for (int h = 1; h < P.KvHeads; h++) TensorPrimitives.Add(mean, new ReadOnlySpan<float>(k + h * P.Ks.Head, d), mean);
            TensorPrimitives.Multiply(mean, inv, mean);
        }
    }
}

/// <summary>Row widening for the decode kernel's per-key-block staging of an F16/BF16 KV cache.</summary>
internal static unsafe class AttentionHalf
{
    /// <summary>dst[0..n) = the F16/BF16 row at src in F32 (n a multiple of 16; BF16 is the upper half of F32).</summary>
    public static void Widen(ushort* src, float* dst, int n, DType type)
    {
        if (type == DType.F16)
        {
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<System.Half>(src, n), new Span<float>(dst, n));
            return;
        }
        for (int i = 0; i < n; i += 16)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Load(src + i));
            Vector256.ShiftLeft(lo, 16).AsSingle().Store(dst + i);
            Vector256.ShiftLeft(hi, 16).AsSingle().Store(dst + i + 8);
        }
    }
}

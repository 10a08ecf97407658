// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>
/// Scaled-dot-product attention <c>softmax(scale * Q K^T + bias, masked) V</c> over q [B, Tq, H, D] and
/// k, v [B, Tk, Hkv, D] (H divisible by Hkv: grouped-query and multi-query attention), fused flash-style
/// (FlashAttention-2, Dao 2023) so that no [Tq, Tk] matrix is materialised, with optional score exports
/// (see <see cref="AttentionOptions"/>). Operands may be strided views (e.g. slices of a packed
/// [B, T, 3, H, D] projection) as long as the head-dim axis is contiguous. Tq of 1..8 over a long KV cache is
/// the decode case; the kernel then splits the keys across cores.
/// </summary>
public static class Attention
{
    internal const string Op = "Attention.Forward";

    /// <summary>Attention output [B, Tq, H, D] in q's dtype, allocated on q's backend.</summary>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, in AttentionOptions options = default)
    {
        Check.Live(Op, "q", q);
        Check.Rank(Op, "q", q, 4, "[B, Tq, H, D]");
        return OutputTensor.Fill(Tensor.Empty(q.Shape, q.DType, q.Backend), (q, k, v, options),
            static (d, s) => Forward(s.q, s.k, s.v, d, s.options));
    }

    /// <summary>Attention of q [B, Tq, H, D] over k, v [B, Tk, Hkv, D] into <paramref name="destination"/> [B, Tq, H, D].</summary>
    public static void Forward(Tensor q, Tensor k, Tensor v, Tensor destination, in AttentionOptions options = default)
    {
        var args = AttentionValidation.Resolve(q, k, v, destination, options);
        if (q.Backend.Kernels is not IAttentionKernels kernels)
        {
            ThrowHelper.NotImplementedOnDevice(Op, q.Device.ToString());
            return;
        }
        kernels.Attention(args);
    }
}

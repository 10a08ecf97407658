// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The contract between op front doors and backends: one method per op, taking a validated args struct.
namespace HpcCore.Kernels;

using HpcCore.Tensors;

/// <summary>
/// A backend's kernels. Every method receives arguments that the op's front door has already validated
/// (shapes, dtypes, devices, contiguity), so implementations never validate and never throw for bad input.
/// Outputs must be fully written; launches may be asynchronous (call <c>IBackend.Synchronize</c> before timing).
/// </summary>
public interface IKernels
{
    /// <summary>Batched GEMM: C = alpha * op(A) @ op(B) + beta * C (+ bias per column).</summary>
    void Gemm(in GemmArgs args);

    /// <summary>
    /// Copies op(B) into this backend's GEMM panel layout once, for a weight that many calls reuse (so no call
    /// re-packs it); returns null when the backend's GEMM reads B in place and gains nothing from packing.
    /// </summary>
    Tensor? PackGemmB(in GemmPackArgs args);

    /// <summary>Elementwise binary op with the right operand broadcast over leading axes.</summary>
    void Binary(in BinaryArgs args);

    /// <summary>Elementwise unary op (scale, GELU, SiLU).</summary>
    void Unary(in UnaryArgs args);

    /// <summary>SwiGLU: silu(gate) * up.</summary>
    void SwiGlu(in SwiGluArgs args);

    /// <summary>Max-subtracted softmax along the last axis.</summary>
    void Softmax(in SoftmaxArgs args);

    /// <summary>LayerNorm or RMSNorm along the last axis.</summary>
    void Norm(in NormArgs args);

    /// <summary>Rotary position embedding over [B, T, H, D].</summary>
    void Rope(in RopeArgs args);

    /// <summary>Embedding gather: rows of a table selected by integer ids.</summary>
    void Embedding(in EmbeddingArgs args);

    /// <summary>Index of the maximum along the last axis (ties to the lower index).</summary>
    void Argmax(in ArgmaxArgs args);

    /// <summary>Elementwise dtype conversion (F32, F16, BF16).</summary>
    void Convert(in ConvertArgs args);

    /// <summary>Copies a strided view into a tensor of the same shape, element by element.</summary>
    void CopyStrided(in CopyStridedArgs args);
}

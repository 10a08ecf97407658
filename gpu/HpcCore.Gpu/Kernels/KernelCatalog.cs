// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every ILGPU kernel entry point by name: used by the offline PTX tests (compile for sm_90 without a GPU) and by
// anything that wants to pre-compile or list kernels.
using System.Reflection;

namespace HpcCore.Gpu.Kernels;

/// <summary>
/// The kernel methods of this assembly, named <c>op/strategy[/type]</c>; reducing kernels in their warp-shuffle form
/// (what CUDA loads) and, suffixed <c>/tree</c>, their shared-memory form (OpenCL devices without shuffles).
/// </summary>
internal static class KernelCatalog
{
    private const BindingFlags Flags = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>Kernel name to its (closed) static kernel method.</summary>
    public static IReadOnlyDictionary<string, MethodInfo> All { get; } = new Dictionary<string, MethodInfo>
    {
        ["gemm/tiled"] = Get(typeof(GemmTiledKernel)).MakeGenericMethod(typeof(float), typeof(F32Element)),
        ["gemm/tiled/bf16"] = Get(typeof(GemmTiledKernel)).MakeGenericMethod(typeof(ushort), typeof(BF16Element)),
        ["binary/elementwise"] = Get(typeof(BinaryKernel)),
        ["unary/elementwise"] = Get(typeof(UnaryKernel)),
        ["swiglu/elementwise"] = Get(typeof(SwiGluKernel)),
        ["softmax/row"] = Get(typeof(SoftmaxRowKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["softmax/row/tree"] = Get(typeof(SoftmaxRowKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["norm/row"] = Get(typeof(NormRowKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["norm/row/tree"] = Get(typeof(NormRowKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["rope/pair"] = Get(typeof(RopeKernel)),
        ["embedding/gather"] = Get(typeof(EmbeddingKernel)),
        ["argmax/row"] = Get(typeof(ArgmaxRowKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["argmax/row/tree"] = Get(typeof(ArgmaxRowKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["convert/elementwise"] = Get(typeof(ConvertKernel)),
        ["copy/strided/u8"] = Get(typeof(CopyStridedKernel)).MakeGenericMethod(typeof(byte)),
        ["copy/strided/u16"] = Get(typeof(CopyStridedKernel)).MakeGenericMethod(typeof(ushort)),
        ["copy/strided/u32"] = Get(typeof(CopyStridedKernel)).MakeGenericMethod(typeof(uint)),
        ["copy/strided/u64"] = Get(typeof(CopyStridedKernel)).MakeGenericMethod(typeof(ulong)),
        ["attention/fused/f32"] = Attention(typeof(AttentionFusedKernel), typeof(float), typeof(F32Element)),
        ["attention/fused/f16"] = Attention(typeof(AttentionFusedKernel), typeof(ILGPU.Half), typeof(F16Element)),
        ["attention/fused/bf16"] = Attention(typeof(AttentionFusedKernel), typeof(ushort), typeof(BF16Element)),
        ["attention/combine/f32"] = Attention(typeof(AttentionCombineKernel), typeof(float), typeof(F32Element)),
        ["attention/combine/f16"] = Attention(typeof(AttentionCombineKernel), typeof(ILGPU.Half), typeof(F16Element)),
        ["attention/combine/bf16"] = Attention(typeof(AttentionCombineKernel), typeof(ushort), typeof(BF16Element)),
        ["attention/keymeans/f32"] = Attention(typeof(AttentionKeyMeansKernel), typeof(float), typeof(F32Element)),
        ["attention/keymeans/f16"] = Attention(typeof(AttentionKeyMeansKernel), typeof(ILGPU.Half), typeof(F16Element)),
        ["attention/keymeans/bf16"] = Attention(typeof(AttentionKeyMeansKernel), typeof(ushort), typeof(BF16Element)),
        ["topk/keys"] = Get(typeof(SortKernels)),
        ["topk/bitonic-step"] = Get(typeof(SortKernels), nameof(SortKernels.StepKernel)),
        ["topk/emit"] = Get(typeof(SortKernels), nameof(SortKernels.EmitKernel)),
        ["threshold/elementwise"] = Get(typeof(MaskKernels)),
        ["compact/row"] = Get(typeof(MaskKernels), nameof(MaskKernels.CompactKernel)),
        ["gather/rows"] = Get(typeof(RowMoveKernels)),
        ["scatter/count"] = Get(typeof(RowMoveKernels), nameof(RowMoveKernels.CountKernel)),
        ["scatter/atomic"] = Get(typeof(RowMoveKernels), nameof(RowMoveKernels.ScatterKernel)),
        ["scatter/mean"] = Get(typeof(RowMoveKernels), nameof(RowMoveKernels.MeanKernel)),
        ["similarity/normalize"] = Get(typeof(SimilarityKernels), nameof(SimilarityKernels.NormalizeKernel)),
        ["similarity/cosine"] = Get(typeof(SimilarityKernels)),
        ["similarity/bestmatch"] = Get(typeof(SimilarityKernels), nameof(SimilarityKernels.BestMatchKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["similarity/bestmatch/tree"] = Get(typeof(SimilarityKernels), nameof(SimilarityKernels.BestMatchKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["similarity/rowmax"] = Get(typeof(SimilarityKernels), nameof(SimilarityKernels.RowMaxKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["similarity/rowmax/tree"] = Get(typeof(SimilarityKernels), nameof(SimilarityKernels.RowMaxKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["reduce/axis"] = Get(typeof(GraphKernels)),
        ["pagerank/init"] = Get(typeof(GraphKernels), nameof(GraphKernels.PageRankInitKernel)),
        ["pagerank/step"] = Get(typeof(GraphKernels), nameof(GraphKernels.PageRankStepKernel)),
        ["pool/adaptive-avg2d"] = Get(typeof(GraphKernels), nameof(GraphKernels.PoolKernel)),
        ["greedy/farthest-point"] = Get(typeof(GreedyKernels)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["greedy/farthest-point/tree"] = Get(typeof(GreedyKernels)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["greedy/coverage"] = Get(typeof(GreedyKernels), nameof(GreedyKernels.CoverageKernel)).MakeGenericMethod(typeof(WarpShuffleReduce)),
        ["greedy/coverage/tree"] = Get(typeof(GreedyKernels), nameof(GreedyKernels.CoverageKernel)).MakeGenericMethod(typeof(SharedTreeReduce)),
        ["paged/attention/f32"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(float), typeof(F32Element), typeof(WarpShuffleReduce)),
        ["paged/attention/f32/tree"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(float), typeof(F32Element), typeof(SharedTreeReduce)),
        ["paged/attention/f16"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(ILGPU.Half), typeof(F16Element), typeof(WarpShuffleReduce)),
        ["paged/attention/f16/tree"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(ILGPU.Half), typeof(F16Element), typeof(SharedTreeReduce)),
        ["paged/attention/bf16"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(ushort), typeof(BF16Element), typeof(WarpShuffleReduce)),
        ["paged/attention/bf16/tree"] = Get(typeof(PagedAttentionGroupKernel)).MakeGenericMethod(typeof(ushort), typeof(BF16Element), typeof(SharedTreeReduce)),
        ["paged/kv-rows"] = Get(typeof(KvRowsKernel)),
    };

    /// <summary>An attention kernel (dense or paged) closed over its element type and codec.</summary>
    private static MethodInfo Attention(Type kernelClass, Type element, Type codec) =>
        Get(kernelClass).MakeGenericMethod(element, codec);

    private static MethodInfo Get(Type kernelClass, string method = "Kernel") =>
        kernelClass.GetMethod(method, Flags) ?? throw new InvalidOperationException($"{kernelClass.Name} has no {method} method.");
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The ILGPU kernel set: one kernel class per op (Kernels/<Op>/), each compiled lazily, once per accelerator, into a
// cached launcher delegate. Launches are asynchronous on the accelerator's default stream.
namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;
using HpcCore.Tensors;

/// <summary>ILGPU kernels for every op. Arguments arrive validated from the op front doors.</summary>
internal sealed partial class IlgpuKernels : IKernels, IAttentionKernels
{
    private readonly Lazy<GemmTiledKernel> _gemm;
    private readonly Lazy<BinaryKernel> _binary;
    private readonly Lazy<UnaryKernel> _unary;
    private readonly Lazy<SwiGluKernel> _swiGlu;
    private readonly Lazy<SoftmaxRowKernel> _softmax;
    private readonly Lazy<NormRowKernel> _norm;
    private readonly Lazy<RopeKernel> _rope;
    private readonly Lazy<EmbeddingKernel> _embedding;
    private readonly Lazy<ArgmaxRowKernel> _argmax;
    private readonly Lazy<ConvertKernel> _convert;
    private readonly Lazy<CopyStridedKernel> _copy;
    private readonly Lazy<AttentionKernel> _attention;

    public IlgpuKernels(IlgpuBackend backend)
    {
        var acc = backend.Accelerator;
        var policy = backend.Policy;
        _gemm = new(() => new GemmTiledKernel(acc, policy));
        _binary = new(() => new BinaryKernel(acc, policy));
        _unary = new(() => new UnaryKernel(acc, policy));
        _swiGlu = new(() => new SwiGluKernel(acc, policy));
        _softmax = new(() => new SoftmaxRowKernel(acc, policy));
        _norm = new(() => new NormRowKernel(acc, policy));
        _rope = new(() => new RopeKernel(acc, policy));
        _embedding = new(() => new EmbeddingKernel(acc, policy));
        _argmax = new(() => new ArgmaxRowKernel(acc, policy));
        _convert = new(() => new ConvertKernel(acc, policy));
        _copy = new(() => new CopyStridedKernel(acc, policy));
        _attention = new(() => new AttentionKernel(acc, policy, backend.Memory, backend.Capabilities.SupportsF16));
        _sort = new(() => new SortKernels(acc, policy, backend.Memory));
        _mask = new(() => new MaskKernels(acc, policy));
        _rows = new(() => new RowMoveKernels(acc, policy, backend.Memory));
        _similarity = new(() => new SimilarityKernels(acc, policy, backend.Memory));
        _graph = new(() => new GraphKernels(acc, policy, backend.Memory));
        _greedy = new(() => new GreedyKernels(acc, policy, backend.Memory));
        _paged = new(() => new PagedAttentionKernel(acc, policy, backend.Memory, () => _rope.Value, backend.Capabilities.SupportsF16));
        _kvRows = new(() => new KvRowsKernel(acc, policy));
    }

    public void Gemm(in GemmArgs args) => _gemm.Value.Launch(args);

    // The tiled GPU GEMM stages B through shared memory per call; a host-side panel layout would not help it.
    public Tensor? PackGemmB(in GemmPackArgs args) => null;

    public void Binary(in BinaryArgs args) => _binary.Value.Launch(args);

    public void Unary(in UnaryArgs args) => _unary.Value.Launch(args);

    public void SwiGlu(in SwiGluArgs args) => _swiGlu.Value.Launch(args);

    public void Softmax(in SoftmaxArgs args) => _softmax.Value.Launch(args);

    public void Norm(in NormArgs args) => _norm.Value.Launch(args);

    public void Rope(in RopeArgs args) => _rope.Value.Launch(args);

    public void Embedding(in EmbeddingArgs args) => _embedding.Value.Launch(args);

    public void Argmax(in ArgmaxArgs args) => _argmax.Value.Launch(args);

    public void Convert(in ConvertArgs args) => _convert.Value.Launch(args);

    public void CopyStrided(in CopyStridedArgs args) => _copy.Value.Launch(args);

    public void Attention(in AttentionArgs args) => _attention.Value.Launch(args);
}

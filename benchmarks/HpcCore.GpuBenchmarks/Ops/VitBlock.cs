// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Ops;

using HpcCore.Devices;
using HpcCore.GpuBenchmarks.Validate;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// One pre-norm ViT-B/16 encoder block (Dosovitskiy et al. 2021; timm's Block) from HpcCore ops, f32: x + proj(attn(LN1 x)),
/// then + fc2(GELU(fc1(LN2 .))). q, k and v are strided views of the packed qkv projection ([B, T, 3, H, D] as timm).
/// With ToMe the attention also exports the key means and the block ends with a ToMe r step (plan + size-weighted
/// merge; Bolya et al. 2023): its cost relative to the block is what the benchmark reports. Seeded random weights.
/// </summary>
internal sealed class VitBlock : IDisposable
{
    private readonly Scope _s;
    private readonly int _b, _t, _c, _h, _d;
    private readonly Tensor _x, _ln1g, _ln1b, _ln2g, _ln2b, _wqkv, _bqkv, _wproj, _bproj, _w1, _b1, _w2, _b2;
    private readonly Tensor _h1, _qkv, _q, _k, _v, _attn, _attn2d, _proj, _x2, _h2, _fc1, _act, _fc2, _out, _out3d, _means, _merged, _size;
    private readonly MergePlan _plan;

    public VitBlock(IBackend backend, bool smoke)
    {
        (_b, _t, _c, _h) = smoke ? (2, 17, 32, 4) : (64, 197, 768, 12);
        _d = _c / _h;
        R = smoke ? 2 : 16;
        _s = new Scope(backend);
        int m = _b * _t, c = _c, f = 4 * _c;
        int seed = 100;
        Tensor W(params int[] dims) => _s.F(Inputs.Uniform(dims.Aggregate(1L, (p, x) => p * x), seed++, "f32", -0.05f, 0.05f), new Shape(dims));
        Tensor Ones(int n) => _s.F(Inputs.Uniform(n, seed++, "f32", 0.9f, 1.1f), new Shape(n));
        Tensor Empty(params int[] dims) => _s.Own(Tensor.Zeros(new Shape(dims), DType.F32, backend));
        _x = _s.F(Inputs.Uniform((long)m * c, seed++), new Shape(m, c));
        (_ln1g, _ln1b, _ln2g, _ln2b) = (Ones(c), W(c), Ones(c), W(c));
        (_wqkv, _bqkv, _wproj, _bproj) = (W(3 * c, c), W(3 * c), W(c, c), W(c));
        (_w1, _b1, _w2, _b2) = (W(f, c), W(f), W(c, f), W(c));
        (_h1, _qkv, _attn, _proj, _x2, _h2, _fc1, _act, _fc2, _out) =
            (Empty(m, c), Empty(m, 3 * c), Empty(_b, _t, _h, _d), Empty(m, c), Empty(m, c), Empty(m, c), Empty(m, f), Empty(m, f), Empty(m, c), Empty(m, c));
        var packed = _s.Own(_qkv.Reshape(_b, _t, 3 * _h, _d));
        _q = _s.Own(packed.Narrow(2, 0, _h));
        _k = _s.Own(packed.Narrow(2, _h, _h));
        _v = _s.Own(packed.Narrow(2, 2 * _h, _h));
        _attn2d = _s.Own(_attn.Reshape(m, c));
        _out3d = _s.Own(_out.Reshape(_b, _t, c));
        _means = Empty(_b, _t, _d);
        _plan = ToMe.Plan(_means, R, new ToMeOptions(ClassToken: true));
        _merged = Empty(_b, _t - _plan.R, c);
        _size = Empty(_b, _t - _plan.R);
    }

    /// <summary>Tokens merged per block.</summary>
    public int R { get; }

    /// <summary>Shape key.</summary>
    public string Key => $"B{_b}xT{_t}xC{_c}xH{_h}";

    /// <summary>Matmul FLOPs: the four projections plus attention's two GEMMs.</summary>
    public double Flops => 2.0 * _b * _t * (3.0 * _c * _c + _c * _c + 8.0 * _c * _c) + 4.0 * _b * _h * _t * (double)_t * _d;

    /// <summary>F32 weight bytes (read once per call at best).</summary>
    public double WeightBytes => 4.0 * 12 * _c * _c;

    /// <summary>F32 activation bytes of the block input and output (the least any block must move).</summary>
    public double ActivationBytes => 4.0 * 2 * _b * _t * _c;

    /// <summary>Runs the block (and the ToMe step when <paramref name="tome"/>).</summary>
    public void Forward(bool tome)
    {
        Norms.LayerNorm(_x, _ln1g, _ln1b, _h1, 1e-6f);
        Gemm.Multiply(_h1, _wqkv, _qkv, new GemmOptions(TransposeB: true, Bias: _bqkv));
        Attention.Forward(_q, _k, _v, _attn, tome ? new AttentionOptions(KeyMeans: _means) : default);
        Gemm.Multiply(_attn2d, _wproj, _proj, new GemmOptions(TransposeB: true, Bias: _bproj));
        Elementwise.Add(_x, _proj, _x2);
        Norms.LayerNorm(_x2, _ln2g, _ln2b, _h2, 1e-6f);
        Gemm.Multiply(_h2, _w1, _fc1, new GemmOptions(TransposeB: true, Bias: _b1));
        Activations.Gelu(_fc1, _act);
        Gemm.Multiply(_act, _w2, _fc2, new GemmOptions(TransposeB: true, Bias: _b2));
        Elementwise.Add(_x2, _fc2, _out);
        if (tome) TomeStep();
    }

    /// <summary>The ToMe step alone: plan on the exported key means, merge the block output.</summary>
    public void TomeStep()
    {
        ToMe.Plan(_means, R, _plan, new ToMeOptions(ClassToken: true));
        ToMe.Merge(_plan, _out3d, null, _merged, _size);
    }

    public void Dispose()
    {
        _plan.Dispose();
        _s.Dispose();
    }
}

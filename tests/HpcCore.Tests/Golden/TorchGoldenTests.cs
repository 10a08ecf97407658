// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Core ops against PyTorch (Debian's python3-torch, an implementation nobody here wrote). The golden file is
// safetensors written by hand in Python, so reading it also cross-checks our safetensors reader.
namespace HpcCore.Tests.Golden;

using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using HpcCore.Tests.Backends;
using Xunit;

[Collection(CpuBackendGroup.Name)]
public sealed class TorchGoldenTests(CpuBackendFixture fixture) : IDisposable
{
    private readonly GoldenFile _file = new("core_ops.safetensors", "tools/golden/core_ops.py", fixture.Backend);

    public void Dispose() => _file.Dispose();

    private Tensor T(string name) => _file.T(name);

    private float[] F(string name) => T(name).ToArray<float>();

    [Fact]
    public void GoldenFile_WasWrittenByTheScript() =>
        Assert.Equal(_file.Script, _file.Generator);

    [Fact]
    public void Softmax_MatchesTorch()
    {
        using var y = Softmax.Forward(T("softmax.x"));
        TensorAssert.Close(F("softmax.y"), y.ToArray<float>(), Tolerance.F32Reduction, "softmax vs torch");
    }

    [Fact]
    public void LayerNorm_MatchesTorch()
    {
        using var y = Norms.LayerNorm(T("layernorm.x"), T("layernorm.w"), T("layernorm.b"), 1e-5f);
        TensorAssert.Close(F("layernorm.y"), y.ToArray<float>(), Tolerance.F32Reduction, "layer_norm vs torch");
    }

    [Fact]
    public void Activations_MatchTorch()
    {
        var x = T("act.x");
        using var gelu = Activations.Gelu(x);
        using var geluTanh = Activations.GeluTanh(x);
        using var silu = Activations.Silu(x);
        TensorAssert.Close(F("act.gelu"), gelu.ToArray<float>(), Tolerance.F32Activation, "gelu vs torch");
        TensorAssert.Close(F("act.gelu_tanh"), geluTanh.ToArray<float>(), Tolerance.F32Activation, "gelu tanh vs torch");
        TensorAssert.Close(F("act.silu"), silu.ToArray<float>(), Tolerance.F32Activation, "silu vs torch");
    }

    [Fact]
    public void LinearAndBmm_MatchTorch()
    {
        using var linear = Gemm.Multiply(T("linear.x"), T("linear.w"), new GemmOptions(TransposeB: true, Bias: T("linear.b")));
        TensorAssert.Close(F("linear.y"), linear.ToArray<float>(), Tolerance.F32Gemm.ForDot(65, 3), "F.linear vs torch");
        using var bmm = Gemm.Multiply(T("bmm.a"), T("bmm.b"));
        TensorAssert.Close(F("bmm.y"), bmm.ToArray<float>(), Tolerance.F32Gemm.ForDot(33, 3), "bmm vs torch");
    }

    [Fact]
    public void EmbeddingAndArgmax_MatchTorchExactly()
    {
        using var e = Embedding.Gather(T("embedding.table"), T("embedding.ids"));
        Assert.Equal(F("embedding.y"), e.ToArray<float>());
        using var a = Reductions.Argmax(T("argmax.x"));
        TensorAssert.Equal(T("argmax.y").ToArray<int>(), a.ToArray<int>(), "argmax vs torch (first maximal index)");
    }

    [Fact]
    public void Conversions_MatchTorchBitForBit()
    {
        var x = T("convert.x");
        using var f16 = Cast.To(x, DType.F16);
        using var bf16 = Cast.To(x, DType.BF16);
        Assert.Equal(T("convert.f16").ToArray<ushort>(), f16.ToArray<ushort>());
        Assert.Equal(T("convert.bf16").ToArray<ushort>(), bf16.ToArray<ushort>());
    }
}

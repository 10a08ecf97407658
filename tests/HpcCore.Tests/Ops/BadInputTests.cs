// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every public op rejects bad input at the front door with an exception naming the op, the argument and the
// shapes, before any kernel runs, leaving its destination untouched.
namespace HpcCore.Tests.Ops;

using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class BadInputTests : BadInputTestBase
{
    [Fact]
    public void Gemm_RejectsBadShapesDTypesDevicesAndDisposed()
    {
        Rejects<ArgumentException>(() => Gemm.Multiply(F(2, 3), F(4, 5)), "Gemm.Multiply", "[4, 5]", "[2, 3]", "inner dimensions 3 and 4");
        Rejects<ArgumentException>(() => Gemm.Multiply(F(3), F(3, 2)), "Gemm.Multiply", "a", "[3]", "rank >= 2");
        Rejects<ArgumentException>(() => Gemm.Multiply(H(2, 3), F(3, 2)), "Gemm.Multiply", "F16");
        Rejects<ArgumentException>(() => Gemm.Multiply(F(2, 3), Other(3, 2)), "Gemm.Multiply", "b", "is on");
        Rejects<ObjectDisposedException>(() => Gemm.Multiply(F(2, 3), Disposed(3, 2)), "Gemm.Multiply", "b");
        Rejects<ArgumentException>(() => Gemm.Multiply(F(2, 3), F(3, 2), F(2, 3)), "Gemm.Multiply", "destination", "[2, 3]", "[2, 2]");
        Rejects<ArgumentException>(() => Gemm.Multiply(F(2, 3), F(3, 2), new GemmOptions(Bias: F(3))), "Bias", "[3]", "[2]");
        Rejects<ArgumentException>(() => Gemm.Multiply(F(4, 2, 3), F(5, 3, 2)), "Gemm.Multiply", "batch axes");
        Rejects<ArgumentOutOfRangeException>(() => Gemm.Multiply(F(2, 3), F(3, 2), new GemmOptions(Beta: 1)), "Beta");
    }

    [Fact]
    public void Gemm_LeavesDestinationIntact_OnFailure()
    {
        using var dest = Tensor.From<float>([1f, 2f, 3f, 4f], new Shape(2, 2), Cpu);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(F(2, 3), F(3, 2), dest, new GemmOptions(Bias: F(5))));
        Assert.Equal([1f, 2f, 3f, 4f], dest.ToArray<float>());
    }

    [Fact]
    public void Elementwise_RejectsNonBroadcastableShapesAndWrongDType()
    {
        Rejects<ArgumentException>(() => Elementwise.Add(F(2, 3), F(2)), "Elementwise.Add", "y", "[2]", "[2, 3]");
        Rejects<ArgumentException>(() => Elementwise.Multiply(F(2, 3), F(4, 2, 3)), "Elementwise.Multiply", "[4, 2, 3]");
        Rejects<ArgumentException>(() => Elementwise.Add(F(2, 3), F(3), F(3, 2)), "destination", "[3, 2]");
        Rejects<ArgumentException>(() => Elementwise.Scale(I(3), 2f), "Elementwise.Scale", "I32");
        Rejects<ArgumentException>(() => Elementwise.Add(Strided(2, 3), F(3)), "Contiguous()");
        Rejects<ArgumentException>(() => Elementwise.Add(F(3), Other(3)), "is on");
        Rejects<ObjectDisposedException>(() => Elementwise.Add(Disposed(3), F(3)), "Elementwise.Add");
    }

    [Fact]
    public void Activations_RejectMismatchedShapesAndDTypes()
    {
        Rejects<ArgumentException>(() => Activations.SwiGlu(F(2, 4), F(2, 3)), "Activations.SwiGlu", "up", "[2, 3]", "[2, 4]");
        Rejects<ArgumentException>(() => Activations.Gelu(H(3)), "Activations.Gelu", "F16");
        Rejects<ArgumentException>(() => Activations.Silu(F(3), F(4)), "Activations.Silu", "destination");
        Rejects<ObjectDisposedException>(() => Activations.GeluTanh(Disposed(3)), "Activations.GeluTanh");
    }

    [Fact]
    public void SoftmaxAndNorms_RejectBadShapes()
    {
        Rejects<ArgumentException>(() => Softmax.Forward(F(2, 3), F(3, 2)), "Softmax.Forward", "destination");
        Rejects<ArgumentException>(() => Softmax.Forward(I(2, 3)), "Softmax.Forward", "I32");
        Rejects<ArgumentException>(() => Norms.LayerNorm(F(2, 8), F(7), F(8)), "Norms.LayerNorm", "gamma", "[7]", "[2, 8]");
        Rejects<ArgumentException>(() => Norms.LayerNorm(F(2, 8), F(8), F(4)), "Norms.LayerNorm", "beta", "[4]");
        Rejects<ArgumentException>(() => Norms.RmsNorm(F(2, 8), Other(8)), "Norms.RmsNorm", "gamma", "is on");
        Rejects<ArgumentOutOfRangeException>(() => Norms.RmsNorm(F(2, 8), F(8), float.NaN), "Norms.RmsNorm", "epsilon");
    }

    [Fact]
    public void Rope_RejectsBadRankRotaryDimAndPositions()
    {
        Rejects<ArgumentException>(() => Rope.Apply(F(2, 3, 4)), "Rope.Apply", "[2, 3, 4]", "[B, T, H, D]");
        Rejects<ArgumentOutOfRangeException>(() => Rope.Apply(F(1, 2, 1, 8), new RopeOptions(RotaryDim: 5)), "RotaryDim", "even");
        Rejects<ArgumentOutOfRangeException>(() => Rope.Apply(F(1, 2, 1, 8), new RopeOptions(RotaryDim: 10)), "RotaryDim");
        Rejects<ArgumentException>(() => Rope.Apply(F(1, 2, 1, 8), new RopeOptions(Positions: I(1, 3))), "Positions", "[1, 3]", "[1, 2]");
        Rejects<ArgumentException>(() => Rope.Apply(F(1, 2, 1, 8), new RopeOptions(Positions: F(1, 2))), "Positions", "F32");
        Rejects<ArgumentOutOfRangeException>(() => Rope.Apply(F(1, 2, 1, 8), new RopeOptions(Theta: 0)), "Theta");
    }

    [Fact]
    public void EmbeddingArgmaxAndCast_RejectBadInput()
    {
        using var ids = Tensor.From<int>([0, 5], new Shape(2), Cpu);
        Rejects<ArgumentException>(() => Embedding.Gather(F(5, 4), ids), "Embedding.Gather", "ids", "holds 5", "[5, 4]");
        Rejects<ArgumentException>(() => Embedding.Gather(F(5, 4), F(2)), "Embedding.Gather", "ids", "F32");
        Rejects<ArgumentException>(() => Embedding.Gather(F(5), I(2)), "Embedding.Gather", "table", "[V, C]");
        Rejects<ArgumentException>(() => Reductions.Argmax(F(3, 0)), "Reductions.Argmax", "[3, 0]");
        Rejects<ArgumentException>(() => Reductions.Argmax(F(3, 4), I(4)), "Reductions.Argmax", "destination", "[4]");
        Rejects<ArgumentException>(() => Cast.To(I(3), DType.F32), "Cast.To", "I32");
        Rejects<ArgumentException>(() => Cast.To(F(3), H(4)), "Cast.To", "destination", "[4]");
    }

    [Fact]
    public void Kernels_NeverSeeRejectedCalls_SoOutputsStayIntact()
    {
        using var dest = Tensor.From<float>([7f, 7f, 7f], new Shape(3), Cpu);
        Assert.Throws<ArgumentException>(() => Softmax.Forward(I(3), dest));
        Assert.Throws<ArgumentException>(() => Elementwise.Add(F(3), F(2), dest));
        Assert.Equal([7f, 7f, 7f], dest.ToArray<float>());
    }
}

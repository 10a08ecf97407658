// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The README's tour, compiled and run, so the documentation cannot drift from the API.
namespace HpcCore.Tests.Docs;

using HpcCore.Devices;
using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void Tour_RunsAsWritten()
    {
        // --- begin README tour (keep in sync with README.md) ---
        using var backend = HpcRuntime.CreateDefault();
        using var x = Tensor.From<float>(new float[197 * 768], new Shape(197, 768), backend);
        using var w = Tensor.Zeros(new Shape(2304, 768), DType.F32, backend);
        using var gamma = Tensor.From<float>(Enumerable.Repeat(1f, 768).ToArray(), new Shape(768), backend);

        using var h = Norms.LayerNorm(x, gamma, beta: null);
        using var qkv = Gemm.Multiply(h, w, new GemmOptions(TransposeB: true));

        using var heads = qkv.Reshape(197, 3, 12, 64);
        using var keySlice = heads.Narrow(1, 1, 1);
        using var keys = keySlice.Permute(1, 2, 0, 3);

        Softmax.Forward(h, h);
        float[] host = h.ToArray<float>();
        // --- end README tour ---

        Assert.Equal(new Shape(197, 2304), qkv.Shape);
        Assert.Equal(new Shape(1, 12, 197, 64), keys.Shape);
        Assert.Equal(2304, keys.Stride(2));
        Assert.Equal(1f / 768, host[0], 6); // LayerNorm of zeros is zero; softmax of a zero row is uniform
    }
}

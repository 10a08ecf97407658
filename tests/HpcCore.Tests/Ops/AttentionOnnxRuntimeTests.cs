// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Attention.Forward against ONNX Runtime's com.microsoft.MultiHeadAttention on the same inputs: an implementation
// nobody here wrote. The single-node model is the hand-encoded one the quick benchmark uses.
namespace HpcCore.Tests.Ops;

using HpcCore.Benchmarks.Quick;
using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;
using Microsoft.ML.OnnxRuntime;
using Xunit;

public sealed class AttentionOnnxRuntimeTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 2);

    public void Dispose() => _cpu.Dispose();

    [Theory]
    [InlineData(1, 7, 2, 8, false)]
    [InlineData(2, 33, 4, 16, false)]
    [InlineData(1, 197, 3, 64, false)]
    [InlineData(2, 33, 2, 32, true)]
    public void Forward_MatchesOnnxRuntimeMultiHeadAttention(int b, int t, int h, int d, bool causal)
    {
        int n = b * t * h * d;
        float[] q = TestData.Normal(n, 1), k = TestData.Normal(n, 2), v = TestData.Normal(n, 3);

        // ORT: query/key/value [B, T, H*D], which is our [B, T, H, D] contiguous layout.
        var theirs = new float[n];
        long[] dims = [b, t, (long)h * d];
        using (var options = new SessionOptions { IntraOpNumThreads = 1 })
        using (var session = new InferenceSession(QuickAttentionModel.MultiHeadAttention(b, t, h, d, causal), options))
        using (var oq = OrtValue.CreateTensorValueFromMemory(q, dims))
        using (var ok = OrtValue.CreateTensorValueFromMemory(k, dims))
        using (var ov = OrtValue.CreateTensorValueFromMemory(v, dims))
        using (var oo = OrtValue.CreateTensorValueFromMemory(theirs, dims))
        using (var binding = session.CreateIoBinding())
        using (var run = new RunOptions())
        {
            binding.BindInput("query", oq);
            binding.BindInput("key", ok);
            binding.BindInput("value", ov);
            binding.BindOutput("output", oo);
            session.RunWithBinding(run, binding);
        }

        using var tq = Tensor.From<float>(q, new Shape(b, t, h, d), _cpu);
        using var tk = Tensor.From<float>(k, new Shape(b, t, h, d), _cpu);
        using var tv = Tensor.From<float>(v, new Shape(b, t, h, d), _cpu);
        using var ours = Attention.Forward(tq, tk, tv, new AttentionOptions(Causal: causal));
        TensorAssert.Close(theirs, ours.ToArray<float>(), Tolerance.F32Reduction, $"attention B{b} T{t} H{h} D{d} causal={causal} vs ORT");
    }
}

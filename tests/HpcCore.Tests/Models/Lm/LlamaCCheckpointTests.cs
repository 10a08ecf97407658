// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using HpcCore.Cpu;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using Xunit;

/// <summary>llama2.c checkpoints: a written file loads to the same model; malformed headers are rejected before allocation.</summary>
public sealed class LlamaCCheckpointTests
{
    /// <summary>Writes <paramref name="w"/> in run.c's layout (weights stacked over layers, RoPE tables as zeros).</summary>
    internal static byte[] Write(LmConfig c, LmWeights w, bool tied)
    {
        using var ms = new MemoryStream();
        using var bw = new BinaryWriter(ms);
        foreach (int v in new[] { c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KvHeads, tied ? c.VocabSize : -c.VocabSize, c.MaxSeqLen }) bw.Write(v);
        void Put(HpcCore.Tensors.Tensor t) { foreach (float f in t.ToArray<float>()) bw.Write(f); }
        Put(w.TokenEmbedding);
        foreach (var l in w.Layers) Put(l.AttnNorm);
        foreach (var l in w.Layers) Put(l.Wq);
        foreach (var l in w.Layers) Put(l.Wk);
        foreach (var l in w.Layers) Put(l.Wv);
        foreach (var l in w.Layers) Put(l.Wo);
        foreach (var l in w.Layers) Put(l.FfnNorm);
        foreach (var l in w.Layers) Put(l.Gate!);
        foreach (var l in w.Layers) Put(l.Down);
        foreach (var l in w.Layers) Put(l.Up);
        Put(w.FinalNorm);
        for (long i = 0; i < (long)c.MaxSeqLen * c.HeadDim; i++) bw.Write(0f);
        if (!tied) Put(w.Classifier);
        return ms.ToArray();
    }

    [Fact]
    public void WrittenCheckpoint_LoadsToTheSameModel()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: 16);
        using var original = LmTestModels.Random(config, cpu, seed: 8);
        var bytes = Write(config, original, tied: false);
        var (loadedConfig, loaded) = LlamaCCheckpoint.Load(new MemoryStream(bytes), cpu);
        using var _ = loaded;
        Assert.Equal(config, loadedConfig);
        int[] tokens = TestData.Ints(9, 3, config.VocabSize);
        var a = ReferenceLm.Forward(LmTestModels.Reference(config, original), tokens);
        var b = ReferenceLm.Forward(LmTestModels.Reference(loadedConfig, loaded), tokens);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(0, 0)]       // dim 0
    [InlineData(0, -4)]      // negative dim
    [InlineData(2, 100000)]  // n_layers too large
    [InlineData(3, 7)]       // heads do not divide dim
    [InlineData(4, 5)]       // kv heads do not divide heads
    [InlineData(6, int.MaxValue)] // seq_len huge
    public void BadHeaderField_Throws(int field, int value)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: 16);
        using var w = LmTestModels.Random(config, cpu, seed: 9);
        var bytes = Write(config, w, tied: false);
        BitConverter.GetBytes(value).CopyTo(bytes, field * 4);
        Assert.Throws<LmFormatException>(() => LlamaCCheckpoint.Load(new MemoryStream(bytes), cpu));
    }

    [Fact]
    public void WrongLength_Throws_NamingBothSizes()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: 16);
        using var w = LmTestModels.Random(config, cpu, seed: 10);
        var bytes = Write(config, w, tied: false);
        var e = Assert.Throws<LmFormatException>(() => LlamaCCheckpoint.Load(new MemoryStream(bytes, 0, bytes.Length - 4), cpu));
        Assert.Contains($"{bytes.Length - 4}", e.Message, StringComparison.Ordinal);
        Assert.Throws<LmFormatException>(() => LlamaCCheckpoint.Load(new MemoryStream(bytes, 0, 20), cpu));
    }

    [Fact]
    public void Fuzz_RandomHeaders_ThrowFormatErrorsOrLoad()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(dim: 8, heads: 2, kvHeads: 1, layers: 1, vocab: 5, hidden: 6, seq: 4);
        using var w = LmTestModels.Random(config, cpu, seed: 11);
        var clean = Write(config, w, tied: true);
        var rng = new Random(77);
        for (int i = 0; i < 3000; i++)
        {
            var data = (byte[])clean.Clone();
            for (int f = rng.Next(1, 4); f > 0; f--) data[rng.Next(28)] = (byte)rng.Next(256);
            try
            {
                var (_, loaded) = LlamaCCheckpoint.Load(new MemoryStream(data), cpu);
                loaded.Dispose();
            }
            catch (LmFormatException)
            {
            }
        }
    }
}

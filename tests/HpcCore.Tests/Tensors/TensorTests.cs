// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Tensors;

using HpcCore.Cpu;
using HpcCore.Tensors;
using HpcCore.Testing;
using Xunit;

public sealed class TensorTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 2);

    public void Dispose() => _cpu.Dispose();

    // Contiguous copies are split across the pool by 4 KB pages: odd byte counts, every dtype size, a size below one
    // page per item, and a large one-row tensor (the case the row split used to leave on one thread).
    [Theory]
    [InlineData(1_000_003, DType.F32)]
    [InlineData(777_777, DType.BF16)]
    [InlineData(5_000, DType.F32)]
    [InlineData(3, DType.U8)]
    public void CopyTo_Contiguous_CopiesEveryByte(int count, DType dtype)
    {
        var rng = new Random(count);
        switch (dtype)
        {
            case DType.F32: Check(Enumerable.Range(0, count).Select(_ => (float)rng.NextDouble()).ToArray()); break;
            case DType.BF16: Check(Enumerable.Range(0, count).Select(_ => (ushort)rng.Next(65536)).ToArray()); break;
            default: Check(Enumerable.Range(0, count).Select(_ => (byte)rng.Next(256)).ToArray()); break;
        }

        void Check<T>(T[] values) where T : unmanaged
        {
            using var src = Tensor.From<T>(values, new Shape(count), _cpu);
            using var dst = Tensor.Zeros(new Shape(count), dtype, _cpu);
            src.CopyTo(dst);
            Assert.Equal(values, dst.ToArray<T>());
        }
    }

    [Fact]
    public void From_RoundTripsEveryDType()
    {
        using var f = Tensor.From<float>([1.5f, -2f], new Shape(2), _cpu);
        using var h = Tensor.From<Half>([(Half)1.5f, (Half)(-2f)], new Shape(2), _cpu);
        using var i = Tensor.From<int>([7, -9, 11], new Shape(3), _cpu);
        using var l = Tensor.From<long>([long.MaxValue], new Shape(1), _cpu);
        using var u = Tensor.From<byte>([0, 255], new Shape(2), _cpu);
        using var b = Tensor.From<bool>([true, false], new Shape(2), _cpu);
        using var bf = Tensor.FromBytes([0x80, 0x3F], new Shape(1), DType.BF16, _cpu);
        Assert.Equal([1.5f, -2f], f.ToArray<float>());
        Assert.Equal([(Half)1.5f, (Half)(-2f)], h.ToArray<Half>());
        Assert.Equal([7, -9, 11], i.ToArray<int>());
        Assert.Equal([long.MaxValue], l.ToArray<long>());
        Assert.Equal([(byte)0, (byte)255], u.ToArray<byte>());
        Assert.Equal([true, false], b.ToArray<bool>());
        Assert.Equal([(ushort)0x3F80], bf.ToArray<ushort>());
    }

    [Fact]
    public void From_RejectsLengthMismatchAndWrongHostType()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.From<float>([1f, 2f, 3f], new Shape(2, 2), _cpu));
        Assert.Contains("Tensor.From", e.Message);
        Assert.Contains("[2, 2]", e.Message);
        using var f = Tensor.From<float>([1f], new Shape(1), _cpu);
        Assert.Contains("does not match tensor dtype F32", Assert.Throws<ArgumentException>(() => f.ToArray<int>()).Message);
    }

    [Fact]
    public void Views_ShareStorage_AndOutliveTheParent()
    {
        var data = Enumerable.Range(0, 24).Select(v => (float)v).ToArray();
        var t = Tensor.From<float>(data, new Shape(2, 3, 4), _cpu);
        var v = t.Narrow(2, 1, 2);         // [2, 3, 2]
        var p = t.Permute(2, 0, 1);        // [4, 2, 3]
        t.Dispose();
        Assert.False(v.IsContiguous);
        Assert.Equal(new Shape(2, 3, 2), v.Shape);
        Assert.Equal([1f, 2f, 5f, 6f, 9f, 10f, 13f, 14f, 17f, 18f, 21f, 22f], v.ToArray<float>());
        Assert.Equal(new Shape(4, 2, 3), p.Shape);
        Assert.Equal(12f, p.ToArray<float>()[3]); // p[0, 1, 0] = t[1, 0, 0]
        long live = _cpu.Memory.LiveBuffers;
        v.Dispose();
        Assert.Equal(live, _cpu.Memory.LiveBuffers);
        p.Dispose();
        Assert.Equal(live - 1, _cpu.Memory.LiveBuffers);
    }

    [Fact]
    public void Reshape_OfContiguous_IsAView_AndOfStridedView_Throws()
    {
        using var t = Tensor.From<float>(TestData.Uniform(24, 1), new Shape(2, 3, 4), _cpu);
        using var r = t.Reshape(6, -1);
        Assert.Equal(new Shape(6, 4), r.Shape);
        Assert.Same(t.Storage, r.Storage);
        using var tr = t.Transpose(0, 2);
        var e = Assert.Throws<ArgumentException>(() => tr.Reshape(24));
        Assert.Contains("Contiguous()", e.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(5, 5));
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => t.Narrow(1, 2, 2));
        Assert.Throws<ArgumentException>(() => t.Permute(0, 0, 1));
    }

    [Fact]
    public void DisposedTensor_ThrowsObjectDisposed_AndDoubleDisposeIsSafe()
    {
        var t = Tensor.From<float>([1f, 2f], new Shape(2), _cpu);
        t.Dispose();
        t.Dispose();
        Assert.True(t.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => t.Narrow(0, 0, 1));
        Assert.Throws<ObjectDisposedException>(() => t.ToArray<float>());
        Assert.Throws<ObjectDisposedException>(() => t.AsSpan<float>());
    }

    [Fact]
    public void To_AnotherBackend_CopiesValues_AndSameBackend_IsAView()
    {
        using var other = new CpuBackend(threads: 1);
        var data = TestData.Uniform(12, 3);
        using var t = Tensor.From<float>(data, new Shape(3, 4), _cpu);
        using var tv = t.Transpose(0, 1);
        using var moved = tv.To(other);
        Assert.Same(other, moved.Backend);
        Assert.True(moved.IsContiguous);
        Assert.Equal(tv.ToArray<float>(), moved.ToArray<float>());
        using var same = t.To(_cpu);
        Assert.Same(t.Storage, same.Storage);
    }

    [Fact]
    public void AsSpan_IsZeroCopy_AndCopyFromWrites()
    {
        using var t = Tensor.Zeros(new Shape(2, 2), DType.F32, _cpu);
        t.CopyFrom<float>([1f, 2f, 3f, 4f]);
        var span = t.AsSpan<float>();
        span[3] = 40f;
        Assert.Equal([1f, 2f, 3f, 40f], t.ToArray<float>());
        using var tr = t.Transpose(0, 1);
        Assert.Throws<ArgumentException>(() => tr.AsSpan<float>());
        Assert.Throws<ArgumentException>(() => t.CopyFrom<float>([1f]));
    }
}

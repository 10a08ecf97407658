// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Issue #21: sizes, offsets and strides computed from user input never wrap around. Before, [65536]^4 F32 got a
// 64-byte buffer (the element count wrapped to 0) and Softmax/TopK then wrote far past it.
namespace HpcCore.Tests.Tensors;

using HpcCore.Cpu;
using HpcCore.Ops;
using HpcCore.Tensors;
using Xunit;

public sealed class SizeOverflowTests : IDisposable
{
    private readonly CpuBackend _cpu = new(threads: 1);

    public void Dispose() => _cpu.Dispose();

    [Fact]
    public void Shape_WhoseElementCountOverflows_IsRefusedNamingTheDims()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(65536, 65536, 65536, 65536));
        Assert.Contains("[65536, 65536, 65536, 65536]", e.Message);
        Assert.Contains("2^56", e.Message);
        // A zero dimension does not excuse the others: the row-major strides of [0, a, b, c] are products of a, b, c.
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(0, 65536, 65536, 65536, 65536));
        // The largest allowed product still has sizes that fit a long at 8 bytes per element.
        var max = new Shape(1 << 28, 1 << 28);
        Assert.Equal(Shape.MaxElements, max.ElementCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(1 << 28, 1 << 28, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, 3).WithDim(0, int.MaxValue).WithDim(1, int.MaxValue));
    }

    [Fact]
    public void Reshape_ToAnOverflowingShape_IsRefused()
    {
        using var t = Tensor.Zeros(new Shape(4), DType.F32, _cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Reshape(65536, 65536, 65536, 65536));
    }

    [Fact]
    public void Empty_TooLargeForMemory_ThrowsOutOfMemory_NotATinyBuffer()
    {
        // 2^59 bytes: a valid shape whose allocation cannot succeed. Before, the wrapped size gave 0 bytes.
        Assert.Throws<OutOfMemoryException>(() => Tensor.Empty(new Shape(1 << 28, 1 << 28), DType.I64, _cpu));
        Assert.Equal(0, _cpu.Memory.LiveBuffers);
    }

    [Fact]
    public void FromStorage_WithAnOffsetThatWouldWrapAround_IsRefused()
    {
        var storage = _cpu.Allocate(64);
        // (offset + count) * 4 wraps to a small number for this offset: the old check let it through.
        long offset = long.MaxValue / 4 + 1;
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromStorage(storage, new Shape(4), DType.F32, offset));
        Assert.Contains("Tensor.FromStorage", e.Message);
        Assert.Contains("offsetElements", e.Message);
        Assert.Throws<ArgumentException>(() => Tensor.FromStorage(storage, new Shape(4), DType.F32, long.MaxValue));
        Assert.Throws<ArgumentException>(() => Tensor.FromStorage(storage, new Shape(4), DType.F32, -1));
        Assert.Throws<ArgumentException>(() => Tensor.FromStorage(storage, new Shape(17), DType.F32));
        // The exact fit is accepted.
        using var fits = Tensor.FromStorage(storage, new Shape(4), DType.F32, 12);
        Assert.Equal(12, fits.Offset);
    }

    [Fact]
    public void CpuStorage_Span_WithAWrappingOffset_IsRefused()
    {
        using var t = Tensor.Zeros(new Shape(16), DType.F32, _cpu);
        var storage = (CpuStorage)t.Storage;
        Assert.Throws<ArgumentOutOfRangeException>(() => storage.AsSpan(long.MaxValue, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => storage.Clear(long.MaxValue, 2));
    }

    [Fact]
    public void Zeros_ThatFails_GivesItsBufferBack()
    {
        // A backend whose Clear fails after the allocation: Zeros must dispose what it allocated (issue #21: a failed
        // >= 2 GiB zero tensor used to keep its touched buffer).
        using var failing = new ClearFailsBackend(_cpu);
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(new Shape(1000), DType.F32, failing));
        Assert.Equal(0, _cpu.Memory.LiveBuffers);
    }

    private sealed class ClearFailsBackend(CpuBackend inner) : HpcCore.Devices.IBackend
    {
        public HpcCore.Devices.Device Device => inner.Device;
        public HpcCore.Devices.BackendCapabilities Capabilities => inner.Capabilities;
        public HpcCore.Kernels.IKernels Kernels => inner.Kernels;
        public Storage Allocate(long bytes) => inner.Allocate(bytes);
        public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long destinationOffset) => inner.CopyFromHost(source, destination, destinationOffset);
        public void CopyToHost(Storage source, long sourceOffset, Span<byte> destination) => inner.CopyToHost(source, sourceOffset, destination);
        public void Clear(Storage storage, long offset, long length) => throw new InvalidOperationException("clear failed");
        public void Synchronize() { }
        public void Dispose() { }
    }
}

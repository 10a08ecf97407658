// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Bit-exact parity between the emulated GPU kernels and the SIMD CPU backend, for the ops whose outputs are indices
// or rounded bits (argmax, dtype conversion): these must agree exactly, not within a tolerance.
using System.Runtime.InteropServices;

namespace HpcCore.Gpu.Tests;

using HpcCore.Devices;
using HpcCore.Kernels;
using HpcCore.Ops;
using HpcCore.Tensors;
using HpcCore.Testing;

/// <summary>Emulator vs CPU backend: identical indices and identical bits.</summary>
[Collection(IlgpuCpuGroup.Name)]
public sealed class IlgpuParityTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Argmax_WithTiesNaNAndSignedZeros_IsIdenticalToCpu()
    {
        foreach (int cols in new[] { 1, 7, 33, 64 })
        {
            const int rows = 8;
            var x = TestData.Uniform(rows * cols, cols, -2f, 2f);
            for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i] * 2f) / 2f; // few distinct values: many ties
            // Row 0: all NaN (-1). Row 1: NaN first, then ties. Row 2: -0 and +0 only (tie, lower index).
            // Row 3: all -inf (first index). Row 4: max at the last column. Row 5: +inf after NaNs.
            for (int c = 0; c < cols; c++)
            {
                x[c] = float.NaN;
                if (c % 3 == 0) x[cols + c] = float.NaN;
                x[2 * cols + c] = c % 2 == 0 ? -0f : 0f;
                x[3 * cols + c] = float.NegativeInfinity;
                x[5 * cols + c] = c < cols / 2 ? float.NaN : 1f;
            }
            x[5 * cols + cols - 1] = float.PositiveInfinity;
            x[4 * cols + cols - 1] = 10f;
            TensorAssert.Equal(ArgmaxOn(fixture.Cpu, x, rows, cols), ArgmaxOn(fixture.Backend, x, rows, cols), $"argmax cols={cols}");
        }
    }

    [Fact]
    public void Convert_AllF16BitPatternsToF32_IsIdenticalToCpu()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        AssertSameBits(bits, DType.F16, DType.F32);
    }

    [Fact]
    public void Convert_AllBF16BitPatternsToF32AndF16_IsIdenticalToCpu()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        AssertSameBits(bits, DType.BF16, DType.F32);
        AssertSameBits(bits, DType.BF16, DType.F16);
    }

    [Fact]
    public void Convert_F32SweepToF16AndBF16_IsIdenticalToCpu()
    {
        var values = new List<uint>
        {
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000,             // zeros, infinities
            0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FBFFFFF, // quiet and signalling NaNs
            0x7FFFFFFF, 0x7FC02000, 0x7F802000, 0xFFA0E000,             // NaN payloads
            0x00000001, 0x807FFFFF, 0x00400000,                         // float subnormals
            0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000, // around the F16 max 65504 / 65520
            0x38800000, 0x387FFFFF, 0x387FE000, 0x387FF000,             // around the smallest normal F16 2^-14
            0x33800000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x33C00000, // around 2^-24 / 2^-25 (subnormal F16)
            0x3F801000, 0x3F803000, 0x3F800FFF, 0x3F801001,             // F16 ties to even and near-ties
            0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,             // BF16 ties to even and near-ties
            0x7F7FFFFF, 0x7F7F8000, 0xFF7F8000,                         // BF16 rounding up to inf
        };
        var rng = new Random(42);
        for (int i = 0; i < 4096; i++) values.Add((uint)rng.NextInt64(0, 1L << 32));
        for (int e = 100; e < 150; e++)                                  // every F16-relevant binade, tie patterns
            for (uint low = 0; low < 8; low++) values.Add(((uint)e << 23) | (low << 12) | (low % 2 == 0 ? 0u : 0x1000u));
        var floats = MemoryMarshal.Cast<uint, float>(CollectionsMarshal.AsSpan(values)).ToArray();
        AssertSameBits(floats, DType.F32, DType.F16);
        AssertSameBits(floats, DType.F32, DType.BF16);
    }

    [Theory]
    [InlineData(RopeLayout.Interleaved)]
    [InlineData(RopeLayout.HalfSplit)]
    public void Rope_AtPositionsInTheThousands_MatchesCpuBackend(RopeLayout layout)
    {
        // Angles up to ~8000 rad: the GPU path forms them in double and reduces to [-pi, pi] before float sin/cos.
        const int b = 1, t = 3, h = 2, d = 16;
        var x = TestData.Uniform(b * t * h * d, 9);
        var options = new RopeOptions(Layout: layout, PositionOffset: 8000);
        float[] Run(IBackend backend)
        {
            using var tx = Tensor.From<float>(x, new Shape(b, t, h, d), backend);
            using var y = Rope.Apply(tx, options);
            backend.Synchronize();
            return y.ToArray<float>();
        }
        TensorAssert.Close(Run(fixture.Cpu), Run(fixture.Backend), Tolerance.GpuF32, $"rope at 8000 {layout}");
    }

    [Fact]
    public void Gemm_NarrowedAAndTransposedBViews_MatchCpuBackend()
    {
        const int m = 13, n = 12, k = 23;
        var wide = TestData.Uniform(m * (k + 3), 5);
        var bData = TestData.Uniform(n * k, 6);
        float[] Run(IBackend backend)
        {
            using var full = Tensor.From<float>(wide, new Shape(m, k + 3), backend);
            using var a = full.Narrow(1, 2, k);       // [m, k], row stride k + 3, element offset 2
            using var bn = Tensor.From<float>(bData, new Shape(n, k), backend);
            using var bt = bn.Transpose(0, 1);       // [k, n] column-major: folded into transB
            using var c = Gemm.Multiply(a, bt, new GemmOptions(Alpha: 1.5f));
            backend.Synchronize();
            return c.ToArray<float>();
        }
        TensorAssert.Close(Run(fixture.Cpu), Run(fixture.Backend), Tolerance.GpuF32.ForDot(k), "strided gemm vs cpu");
    }

    private static int[] ArgmaxOn(IBackend backend, float[] x, int rows, int cols)
    {
        using var t = Tensor.From<float>(x, new Shape(rows, cols), backend);
        using var idx = Reductions.Argmax(t);
        backend.Synchronize();
        return idx.ToArray<int>();
    }

    private void AssertSameBits<T>(T[] source, DType from, DType to) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(source.AsSpan()).ToArray();
        var cpu = ConvertOn(fixture.Cpu, bytes, source.Length, from, to);
        var gpu = ConvertOn(fixture.Backend, bytes, source.Length, from, to);
        int size = to.SizeInBytes();
        var mismatches = new List<string>();
        for (int i = 0; i < source.Length && mismatches.Count < 8; i++)
        {
            ulong c = size == 2 ? BitConverter.ToUInt16(cpu, i * 2) : BitConverter.ToUInt32(cpu, i * 4);
            ulong g = size == 2 ? BitConverter.ToUInt16(gpu, i * 2) : BitConverter.ToUInt32(gpu, i * 4);
            if (c != g)
            {
                ulong input = from == DType.F32 ? BitConverter.ToUInt32(bytes, i * 4) : BitConverter.ToUInt16(bytes, i * 2);
                mismatches.Add($"input 0x{input:X}: cpu 0x{c:X}, emulator 0x{g:X}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{from}->{to}:\n" + string.Join("\n", mismatches));
    }

    private static byte[] ConvertOn(IBackend backend, byte[] bytes, int count, DType from, DType to)
    {
        using var x = Tensor.FromBytes(bytes, new Shape(count), from, backend);
        using var d = Cast.To(x, to);
        backend.Synchronize();
        var result = new byte[count * to.SizeInBytes()];
        backend.CopyToHost(d.Storage, d.ByteOffset, result);
        return result;
    }
}

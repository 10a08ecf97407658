// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Dtype conversion between F32, F16 and BF16, rounding to nearest even. F16 uses TensorPrimitives (F16C);
// BF16 is the top half of a binary32, rounded with the usual "add 0x7FFF + lsb" trick, NaNs kept quiet.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

using HpcCore.Kernels;
using HpcCore.Tensors;

internal sealed unsafe partial class CpuKernels
{
    public void Convert(in ConvertArgs a)
    {
        if (a.Count == 0) return;
        var body = new ConvertBody
        {
            X = (byte*)Ptr<byte>(a.X), D = (byte*)Ptr<byte>(a.Dest), From = a.X.DType, To = a.Dest.DType, Count = a.Count,
        };
        body.Items = ItemsFor(a.Count, 1);
        Pool.For(body.Items, body);
    }

    private struct ConvertBody : IParallelBody
    {
        public byte* X, D;
        public DType From, To;
        public long Count;
        public int Items;

        public readonly void Invoke(int item)
        {
            var (start, end) = Range(Count, Items, item);
            const int Chunk = 1024;
            float* tmp = stackalloc float[Chunk];
            for (long s = start; s < end; s += Chunk)
            {
                int n = (int)Math.Min(Chunk, end - s);
                float* f = From == DType.F32 ? (float*)X + s : tmp;
                if (From == DType.F16) TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)X + s, n), new Span<float>(tmp, n));
                else if (From == DType.BF16) Bf16ToF32((ushort*)X + s, tmp, n);
                if (To == DType.F32) new ReadOnlySpan<float>(f, n).CopyTo(new Span<float>((float*)D + s, n));
                else if (To == DType.F16) TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(f, n), new Span<Half>((Half*)D + s, n));
                else F32ToBf16(f, (ushort*)D + s, n);
            }
        }
    }

    internal static void Bf16ToF32(ushort* x, float* d, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                // BF16 is the top half of a binary32: widen 16 bits to 32 and shift into place.
                var (lower, upper) = Vector256.Widen(Vector256.Load(x + i));
                Vector256.ShiftLeft(lower, 16).AsSingle().Store(d + i);
                Vector256.ShiftLeft(upper, 16).AsSingle().Store(d + i + 8);
            }
        for (; i < n; i++) ((uint*)d)[i] = (uint)x[i] << 16;
    }

    internal static void F32ToBf16(float* x, ushort* d, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var lsbMask = Vector512.Create(1u);
            var bias = Vector512.Create(0x7FFFu);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                var bits = v.AsUInt32();
                var rounded = (bits + bias + ((bits >> 16) & lsbMask)) >> 16;
                // NaN: keep the sign and the top mantissa bits, forcing the quiet bit so it stays a NaN.
                var nan = Vector512.Equals(v, v).AsUInt32();
                var quiet = (bits >> 16) | Vector512.Create(0x40u);
                var r = Vector512.ConditionalSelect(nan, rounded, quiet);
                var packed = Vector512.Narrow(r, r);
                packed.GetLower().Store(d + i);
            }
        }
        for (; i < n; i++) d[i] = F32ToBf16(x[i]);
    }

    internal static ushort F32ToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }
}

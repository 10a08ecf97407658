// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// How the GEMM kernels read B (the weights): F32 as is, or BF16 widened to F32 on load. The kernels are generic
// over a load struct, so the JIT compiles one specialisation per dtype and the F32 path has no conversion at all.
// BF16 is the top half of an F32, so widening is exact: zero-extend each 16-bit word to 32 bits and shift it left by
// 16 (vpmovzxwd + vpslld, 2 instructions per 16 weights). Arithmetic stays F32 (FMA with F32 accumulators), so BF16
// weights cost only their own rounding; AVX-512 BF16's VDPBF16PS would also round the activations to BF16, and
// .NET 10 exposes no intrinsic for it. A matrix-vector product is bound by the weight bytes it streams, which halve.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HpcCore.Cpu;

/// <summary>Reads weight elements of type <typeparamref name="T"/> as F32 (16, 8 or 1 at a time).</summary>
internal unsafe interface IGemmLoad<T>
    where T : unmanaged
{
    /// <summary>16 consecutive elements as F32.</summary>
    static abstract Vector512<float> Load16(T* p);

    /// <summary>8 consecutive elements as F32.</summary>
    static abstract Vector256<float> Load8(T* p);

    /// <summary>One element as F32.</summary>
    static abstract float Load1(T* p);
}

/// <summary>F32 weights: plain loads.</summary>
internal readonly unsafe struct F32Load : IGemmLoad<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(float* p) => *p;
}

/// <summary>BF16 weights (raw ushort bits): widened exactly to F32 by a 16-bit left shift.</summary>
internal readonly unsafe struct Bf16Load : IGemmLoad<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ushort* p) => Avx512F.IsSupported
        ? Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle()
        : (Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ushort* p) => Avx2.IsSupported
        ? Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.Load(p)), 16).AsSingle()
        : (Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ushort* p) => BitConverter.UInt32BitsToSingle((uint)*p << 16);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Float scores as unsigned keys whose integer order is the ranking order of the selection ops: NaN below every
// number (-inf included) and -0 equal to +0. Radix selection and radix sorting then work on plain uints
// (the usual IEEE-754 sign flip; ILGPU.Algorithms' float radix sort skips it and mis-orders negatives).
using System.Runtime.Intrinsics;

namespace HpcCore.Cpu;

/// <summary>Order-preserving float-to-uint keys.</summary>
internal static unsafe class SortableKey
{
    /// <summary>keys[i] = Of(x[i]) ^ flip for i in [0, n) (flip = all ones ranks descending), 8 lanes at a time.</summary>
    public static void Fill(float* x, uint* keys, int n, uint flip)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var sign = Vector256.Create(0x8000_0000u);
            var flipV = Vector256.Create(flip);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(x + i);
                var bits = v.AsUInt32();
                bits = Vector256.AndNot(bits, Vector256.Equals(bits, sign)); // -0 -> +0
                var negative = Vector256.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32();
                var key = bits ^ (negative | sign); // negative: ~bits; positive: bits | sign
                key = Vector256.AndNot(key, ~Vector256.Equals(v, v).AsUInt32()); // NaN -> 0
                (key ^ flipV).Store(keys + i);
            }
        }
        for (; i < n; i++) keys[i] = Of(x[i]) ^ flip;
    }

    /// <summary>The key of <paramref name="x"/>: larger number, larger key; every NaN is 0, below -inf's key.</summary>
    public static uint Of(float x)
    {
        if (float.IsNaN(x)) return 0;
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (bits == 0x8000_0000u) bits = 0; // -0 ranks as +0
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }
}

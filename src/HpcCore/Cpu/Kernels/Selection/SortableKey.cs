// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Float scores as unsigned keys whose integer order is the ranking order of the selection ops: NaN below every
// number (-inf included) and -0 equal to +0. Radix selection and radix sorting then work on plain uints
// (the usual IEEE-754 sign flip; ILGPU.Algorithms' float radix sort skips it and mis-orders negatives).
namespace HpcCore.Cpu;

/// <summary>Order-preserving float-to-uint keys.</summary>
internal static class SortableKey
{
    /// <summary>The key of <paramref name="x"/>: larger number, larger key; every NaN is 0, below -inf's key.</summary>
    public static uint Of(float x)
    {
        if (float.IsNaN(x)) return 0;
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (bits == 0x8000_0000u) bits = 0; // -0 ranks as +0
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }
}

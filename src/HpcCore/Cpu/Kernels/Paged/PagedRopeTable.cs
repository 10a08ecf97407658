// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// cos/sin of RoPE angles by position, for paged attention's rotation at read. Positions there are indices within a
// head's attended list (0 .. N-1), the same small range at every decode step, so the table is kept by the backend
// across calls and only grows: a decode step over 4k tokens with D = 128 would otherwise spend ~10 ms in double
// trig (4k x 64 angles), ten times the attention itself. Angles are computed as CpuRope does (double angle,
// double cos/sin rounded to float), so rotation at read equals Rope.Apply at the same positions bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HpcCore.Cpu;

/// <summary>Grow-only per-backend table of float cos/sin [position, pair] for one (theta, rotary dims).</summary>
internal sealed unsafe class PagedRopeTable
{
    private float[] _cos = [], _sin = [];
    private float _theta;
    private int _rotary, _positions;

    /// <summary>cos [positions, Rotary/2]; valid after <see cref="Ensure"/> until the next call of it.</summary>
    public float* Cos => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cos));

    /// <summary>sin [positions, Rotary/2].</summary>
    public float* Sin => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_sin));

    /// <summary>Whether the table is empty or already for (theta, rotary), so <see cref="Ensure"/> only appends rows.</summary>
    public bool Fits(float theta, int rotary) => _positions == 0 || (theta == _theta && rotary == _rotary);

    /// <summary>Makes the table hold positions [0, <paramref name="positions"/>) for (theta, rotary).</summary>
    public void Ensure(float theta, int rotary, int positions)
    {
        int pairs = rotary / 2;
        if (theta != _theta || rotary != _rotary)
        {
            _theta = theta;
            _rotary = rotary;
            _positions = 0;
        }
        if (positions <= _positions || pairs == 0) return;
        long needed = (long)positions * pairs;
        if (needed > _cos.Length)
        {
            // Doubling: a growing decode context reallocates O(log n) times, then never. Pinned (POH) so the
            // kernels can hold raw pointers while the worker pool runs.
            long capacity = Math.Max(needed, Math.Max(64L * pairs, 2L * _cos.Length));
            var cos = GC.AllocateUninitializedArray<float>(checked((int)capacity), pinned: true);
            var sin = GC.AllocateUninitializedArray<float>(checked((int)capacity), pinned: true);
            _cos.AsSpan(0, _positions * pairs).CopyTo(cos);
            _sin.AsSpan(0, _positions * pairs).CopyTo(sin);
            _cos = cos;
            _sin = sin;
        }
        Span<double> invFreq = pairs <= 512 ? stackalloc double[pairs] : new double[pairs];
        for (int i = 0; i < pairs; i++) invFreq[i] = Math.Pow(theta, -2.0 * i / rotary);
        for (long pos = _positions; pos < positions; pos++)
        {
            for (int i = 0; i < pairs; i++)
            {
                double angle = pos * invFreq[i];
                _cos[pos * pairs + i] = (float)Math.Cos(angle);
                _sin[pos * pairs + i] = (float)Math.Sin(angle);
            }
        }
        _positions = positions;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Rotary position embedding (Su et al. 2021, RoFormer) over contiguous F32 [B, T, H, D].
// Algorithm: one work item per (token, head, slot), grid-stride. Slots [0, R/2) are rotary pairs: the thread reads both
// members of its pair and writes both (so d may alias x without a race); slots past that copy the D - R untouched
// entries. Pairs are (2i, 2i+1) when Interleaved, (i, i + R/2) when HalfSplit. Angle = pos * theta^(-2i/R).
// Precision: a float angle would be useless at long positions (a float pow on PTX, ex2/lg2.approx, is off by ~1e-6
// relative, i.e. ~4e-3 rad at position 4096, and sin.approx is only specified on |x| <= 100 pi). So the inverse
// frequencies theta^(-2i/R) are computed on the host in double exactly as the CPU backend does, uploaded once per
// (R, theta) and cached; the kernel forms pos * freq in double and reduces it to [-pi, pi] in double (a handful of
// FP64 ops per pair, negligible for this memory-bound op); only sin/cos of the reduced angle run in float
// (XMath; sin.approx/cos.approx on PTX, abs error ~1e-6). Results match the CPU to ~1e-6 at any position.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace HpcCore.Gpu.Kernels;

using HpcCore.Kernels;

/// <summary>Dims of <see cref="RopeKernel"/>.</summary>
internal readonly struct RopeParams(long tokens, int tokensPerBatch, int heads, int headDim, int rotaryDim,
    int positionOffset, float theta, int halfSplit, int hasPositions)
{
    public readonly long Tokens = tokens;          // B * T
    public readonly int TokensPerBatch = tokensPerBatch;
    public readonly int Heads = heads;
    public readonly int HeadDim = headDim;
    public readonly int RotaryDim = rotaryDim;
    public readonly int PositionOffset = positionOffset;
    public readonly float Theta = theta;
    public readonly int HalfSplit = halfSplit;
    public readonly int HasPositions = hasPositions;
}

/// <summary>Rotary embedding, one thread per rotary pair or copied tail entry.</summary>
internal sealed class RopeKernel(Accelerator accelerator, LaunchPolicy policy)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<double>, RopeParams> _launch =
        accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<double>, RopeParams>(Kernel);

    // Inverse-frequency tables per (rotary dim, theta); a model uses one or two, so they are kept for the
    // accelerator's lifetime (freed with it).
    private readonly Dictionary<(int, float), MemoryBuffer1D<double, Stride1D.Dense>> _frequencies = [];
    private readonly Lock _gate = new();

    /// <summary>The cached inverse frequencies theta^(-2i/R), i &lt; R/2, in double (also used by the paged attention's RoPE at read).</summary>
    internal ArrayView<double> Frequencies(int rotaryDim, float theta)
    {
        lock (_gate)
        {
            if (!_frequencies.TryGetValue((rotaryDim, theta), out var buffer))
            {
                var table = new double[Math.Max(1, rotaryDim / 2)];
                for (int i = 0; i < rotaryDim / 2; i++) table[i] = Math.Pow(theta, -2.0 * i / rotaryDim); // as CpuRope
                buffer = accelerator.Allocate1D(table);
                _frequencies[(rotaryDim, theta)] = buffer;
            }
            return buffer.View;
        }
    }

    public void Launch(in RopeArgs a)
    {
        long tokens = (long)a.Batch * a.Tokens;
        if (tokens == 0 || a.Heads == 0 || a.HeadDim == 0) return;
        long n = tokens * a.Heads * a.HeadDim;
        int pairs = a.RotaryDim / 2;
        long work = tokens * a.Heads * (a.HeadDim - pairs);
        var x = DeviceViews.Elements<float>(a.X, n);
        // Without explicit positions, x's storage stands in as a never-read placeholder view.
        var positions = a.Positions is null ? DeviceViews.Whole<int>(a.X) : DeviceViews.Elements<int>(a.Positions, tokens);
        int group = policy.ElementwiseGroupSize;
        _launch(new KernelConfig(policy.GridFor(work, group), group), x, DeviceViews.Elements<float>(a.Dest, n), positions,
            Frequencies(a.RotaryDim, a.Theta),
            new RopeParams(tokens, a.Tokens, a.Heads, a.HeadDim, a.RotaryDim, a.PositionOffset, a.Theta,
                a.Layout == RopeLayout.HalfSplit ? 1 : 0, a.Positions is null ? 0 : 1));
    }

    private const double TwoPi = 6.283185307179586476925;
    private const double InvTwoPi = 0.159154943091895335768;

    /// <param name="x">[B, T, H, D] input.</param>
    /// <param name="d">[B, T, H, D] output (may alias x).</param>
    /// <param name="positions">[B, T] positions (read only when HasPositions).</param>
    /// <param name="freqs">[R/2] inverse frequencies theta^(-2i/R), in double.</param>
    /// <param name="p">Dims, theta and layout.</param>
    internal static void Kernel(ArrayView<float> x, ArrayView<float> d, ArrayView<int> positions, ArrayView<double> freqs, RopeParams p)
    {
        int pairs = p.RotaryDim / 2;
        int slots = p.HeadDim - pairs; // pairs + (HeadDim - 2 * pairs) tail entries
        long work = p.Tokens * p.Heads * slots;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long w = Grid.GlobalIndex.X; w < work; w += stride)
        {
            int j = (int)(w % slots);
            long nh = w / slots;                 // token * H + head
            long n = nh / p.Heads;               // token in [0, B*T)
            long head = nh * p.HeadDim;          // first entry of this head
            if (j < pairs)
            {
                long pos = p.HasPositions != 0 ? positions[n] : p.PositionOffset + n % p.TokensPerBatch;
                double angle = pos * freqs[j];
                // Reduce to [-pi, pi] in double so that float sin/cos (sin.approx on PTX) stay accurate.
                float reduced = (float)(angle - TwoPi * XMath.Round(angle * InvTwoPi));
                float c = XMath.Cos(reduced), s = XMath.Sin(reduced);
                long i0 = head + (p.HalfSplit != 0 ? j : 2 * j);
                long i1 = head + (p.HalfSplit != 0 ? j + pairs : 2 * j + 1);
                float x0 = x[i0], x1 = x[i1];
                d[i0] = x0 * c - x1 * s;
                d[i1] = x0 * s + x1 * c;
            }
            else
            {
                long e = head + 2 * pairs + (j - pairs);
                d[e] = x[e];
            }
        }
    }
}

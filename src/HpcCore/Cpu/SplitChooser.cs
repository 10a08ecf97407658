// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Whether a small forward gains from a second thread depends on the moment, not only on its size. On the same 2-vCPU
// machine, minutes apart, the trained Fashion-MNIST ViT at batch 1 ran 0.85x, 0.92x and 1.58x on a pool of two against
// one thread (BENCHMARKS.md, "Two threads never slower than one"): when the other vCPU is taken by a neighbour, every
// hand-off waits for it. No fixed threshold holds on both sides, so units are timed both ways and the faster way
// wins, with an occasional try of the other way to notice when the machine changes (a two-armed bandit per size).
// Each try of the losing way costs its extra time (a batch-1 ViT forward pooled on a busy machine took 1.9x the serial
// time, so one try in 32 cost 3%); while the tries keep losing clearly, they are spaced out further (32, 64, 128
// units apart; the first ones after the warm-up come sooner: FirstTryAfter), and a try that comes close brings the
// spacing back to 32. A try that wins clearly takes over at once
// (its window is refilled with it): the way not chosen is sampled only by tries, so waiting for three of five of them
// to agree kept a batch-1 ViT-B with ToMe on one core for a whole 31-round benchmark after a noisy start (1.05x where
// the pool gives 1.8x). A wrong switch costs little: the chosen way is timed on every unit, so three slow units switch
// back. After serial units the pool's workers have parked, and waking one takes 1-4 ms here: a try timed with that
// wake-up lost to one core for every unit shorter than it (the trained ViT at batch 1, 1.5 ms on one thread and 1.45x
// faster pooled back to back, stayed on one core for a whole benchmark). So the workers are woken a few units ahead of
// a try and kept spinning until it (CpuWorkerPool.Prewake): the try then costs what back-to-back pooled units cost,
// and the caller waits for nothing.
using System.Numerics;

namespace HpcCore.Cpu;

/// <summary>
/// Chooses, per size class of a unit of work, between the calling thread alone and the worker pool, from the recent
/// times of both. Thread-safe.
/// </summary>
public sealed class SplitChooser
{
    /// <summary>Samples kept per size class and way; the median of these decides.</summary>
    public const int Window = 5;

    /// <summary>After the warm-up, one unit in this many runs the way that is slower lately, to keep its time current.</summary>
    public const int ExploreEvery = 32;

    /// <summary>The widest spacing of those tries, reached while every try loses clearly.</summary>
    public const int MaxExploreEvery = 128;

    /// <summary>
    /// Units after the warm-up before the first try of the way not chosen; while tries lose clearly the spacing doubles
    /// from here (4, 8, 16, 32, ...). The warm-up's samples are taken while the code on the path is still being
    /// compiled (tier 0 until a method has run 30 times): ViT-B with ToMe at batch 1 came out of it on one core in two of
    /// three benchmark runs (1.01x and 1.05x over the plain model where the pool gives 1.84x), and with the first try
    /// 32 units away none came within the 31 rounds.
    /// </summary>
    public const int FirstTryAfter = 4;

    /// <summary>
    /// Units a size class takes to settle when one way is clearly faster: the unrecorded cold units, the warm-up of
    /// both windows, and the early tries (<see cref="FirstTryAfter"/> units after the warm-up, then 8 and 16 units
    /// apart). A benchmark of steady-state speed runs this many units untimed first.
    /// </summary>
    public const int SettlingUnits = Cold + 2 * Window + 7 * FirstTryAfter;

    /// <summary>A try loses clearly when it takes more than this times the chosen way's median.</summary>
    public const double ClearLoss = 1.1;

    /// <summary>
    /// The pool is chosen only when its median beats the serial one by this factor: within noise of each other, one
    /// thread is as fast and leaves the other core to its neighbours (a batch-1 ViT forward on a quiet machine timed
    /// 0.96x pooled, and 5-sample medians that close flip on noise).
    /// </summary>
    public const double PooledMustWinBy = 1.03;

    // The first units of a size carry one-time costs (first-touch, weights packed on first use, JIT): not recorded.
    private const int Cold = 2;
    private const int Buckets = 64;

    private readonly Lock _gate = new();
    private readonly double[] _samples = new double[Buckets * 2 * Window];
    private readonly int[] _counts = new int[Buckets * 2];
    private readonly int[] _seen = new int[Buckets];
    // Per size class: units left until the next try of the way not chosen, and the current spacing of those tries.
    private readonly int[] _untilTry = new int[Buckets];
    private readonly int[] _spacing = new int[Buckets];

    /// <summary>A chooser with no record yet.</summary>
    public SplitChooser()
    {
        Array.Fill(_untilTry, FirstTryAfter);
        Array.Fill(_spacing, FirstTryAfter);
    }

    /// <summary>The size class of a unit costing <paramref name="cost"/> (FLOPs plus weighted bytes): its binary order of magnitude.</summary>
    public static int SizeClass(double cost) =>
        cost < 2 ? 0 : (int)Math.Min(Buckets - 1, BitOperations.Log2((ulong)Math.Min(cost, 9e18)));

    /// <summary>
    /// How long before a try of the pool its workers are woken (<see cref="ChooseSerial(int, out TimeSpan)"/>): longer
    /// than waking a parked thread takes on the virtual machines we run on (1-4 ms).
    /// </summary>
    public static readonly TimeSpan WakeLead = TimeSpan.FromMilliseconds(5);

    /// <summary>Units shorter than this (on one thread) get no early wake-up: the pool does not pay off for them.</summary>
    public static readonly TimeSpan MinWakeUnit = TimeSpan.FromMicroseconds(100);

    /// <summary>Whether the next unit of <paramref name="sizeClass"/> should run on the calling thread alone.</summary>
    public bool ChooseSerial(int sizeClass) => ChooseSerial(sizeClass, out _);

    /// <summary>
    /// Whether the next unit of <paramref name="sizeClass"/> should run on the calling thread alone. A positive
    /// <paramref name="wakeWorkersFor"/> asks the caller to wake the pool's parked workers now and keep them spinning
    /// that long (<see cref="CpuWorkerPool.Prewake"/>): a try of the pool follows within <see cref="WakeLead"/>.
    /// </summary>
    public bool ChooseSerial(int sizeClass, out TimeSpan wakeWorkersFor)
    {
        wakeWorkersFor = TimeSpan.Zero;
        lock (_gate)
        {
            int pooled = _counts[Slot(sizeClass, serial: false)], serial = _counts[Slot(sizeClass, serial: true)];
            // Warm-up: both ways until each has a full window (pooled first: the default before this chooser).
            if (pooled < Window || serial < Window) return pooled > serial;
            bool explore = --_untilTry[sizeClass] == 0;
            if (explore) _untilTry[sizeClass] = _spacing[sizeClass];
            bool serialChosen = SerialChosen(sizeClass);
            if (serialChosen && !explore)
            {
                // A unit's cost lies in [2^class, 2^(class+1)): its serial seconds from the window's median.
                double unitSeconds = Median(sizeClass, serial: true) * 1.5 * Math.Pow(2, sizeClass);
                if (unitSeconds >= MinWakeUnit.TotalSeconds)
                {
                    int lead = (int)Math.Clamp(Math.Ceiling(WakeLead.TotalSeconds / unitSeconds), 1, Math.Max(1, _spacing[sizeClass] - 1));
                    if (_untilTry[sizeClass] == lead) wakeWorkersFor = WakeLead + TimeSpan.FromSeconds(2 * unitSeconds);
                }
            }
            return serialChosen != explore;
        }
    }

    /// <summary>Records that a unit of <paramref name="sizeClass"/> took <paramref name="secondsPerCost"/> the given way.</summary>
    public void Record(int sizeClass, bool serial, double secondsPerCost)
    {
        if (!(secondsPerCost >= 0) || double.IsInfinity(secondsPerCost)) return;
        lock (_gate)
        {
            if (_seen[sizeClass] < Cold)
            {
                _seen[sizeClass]++;
                return;
            }
            int slot = Slot(sizeClass, serial), other = Slot(sizeClass, !serial);
            if (_counts[slot] >= Window && _counts[other] >= Window && serial != SerialChosen(sizeClass))
            {
                // A unit of the way not chosen lately is a try: space the next one by how it went, and let it take over
                // when it wins clearly.
                double chosen = Median(sizeClass, !serial);
                _spacing[sizeClass] = secondsPerCost > ClearLoss * chosen ? Math.Min(2 * _spacing[sizeClass], MaxExploreEvery) : ExploreEvery;
                _untilTry[sizeClass] = _spacing[sizeClass];
                if (secondsPerCost * ClearLoss < chosen)
                {
                    _samples.AsSpan(slot * Window, Window).Fill(secondsPerCost);
                    return;
                }
            }
            _samples[slot * Window + _counts[slot] % Window] = secondsPerCost;
            _counts[slot] = _counts[slot] == int.MaxValue ? Window : _counts[slot] + 1;
        }
    }

    private bool SerialChosen(int sizeClass) =>
        !(Median(sizeClass, serial: false) * PooledMustWinBy < Median(sizeClass, serial: true));

    private static int Slot(int sizeClass, bool serial) => sizeClass * 2 + (serial ? 1 : 0);

    private double Median(int sizeClass, bool serial)
    {
        Span<double> window = stackalloc double[Window];
        _samples.AsSpan(Slot(sizeClass, serial) * Window, Window).CopyTo(window);
        window.Sort();
        return window[Window / 2];
    }
}

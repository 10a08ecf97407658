// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A forward pass is a chain of a hundred or more kernels. When it is small, each parallel kernel's hand-off to the
// second core (waking it, then moving the outputs it wrote back to the calling core's cache for the next kernel) can
// cost what the split saves, and a busy neighbour on the other core makes every hand-off wait: the trained
// Fashion-MNIST ViT has run 656 img/s on one thread and 514 on two (issue #18 item 4). Each kernel keeps small calls
// on the calling thread by its own work threshold; a scope over a whole unit of work does it for all of them, and
// times the unit so that the CPU backend can choose the faster way next time (SplitChooser).
using System.Diagnostics;

namespace HpcCore.Devices;

using HpcCore.Cpu;

/// <summary>
/// A unit of work begun by <see cref="IBackend.BeginWork"/>: while <see cref="Serial"/>, every CPU kernel started from
/// this thread runs on it alone. Dispose it on the thread that began it; a default scope does nothing.
/// </summary>
public readonly struct WorkScope : IDisposable
{
    private readonly bool _serial;
    private readonly SplitChooser? _chooser;
    private readonly int _sizeClass;
    private readonly double _cost;
    private readonly long _start;

    private WorkScope(bool serial, SplitChooser? chooser, int sizeClass, double cost)
    {
        _serial = serial;
        _chooser = chooser;
        _sizeClass = sizeClass;
        _cost = cost;
        _start = chooser is null ? 0 : Stopwatch.GetTimestamp();
    }

    /// <summary>Whether kernels inside this scope run on the calling thread only.</summary>
    public bool Serial => _serial;

    /// <summary>
    /// Starts a scope in which every CPU kernel called from this thread runs on it alone. Inside another serial scope
    /// (or a pool job) it is a no-op, so scopes nest.
    /// </summary>
    public static WorkScope SerialOnThisThread() => new(CpuWorkerPool.EnterSerial(), null, 0, 0);

    /// <summary>
    /// A scope run the way <paramref name="chooser"/> picked for <paramref name="sizeClass"/>, whose time per unit of
    /// <paramref name="cost"/> is reported back to it on <see cref="Dispose"/>.
    /// </summary>
    internal static WorkScope Timed(SplitChooser chooser, int sizeClass, double cost, bool serial) =>
        new(serial && CpuWorkerPool.EnterSerial(), chooser, sizeClass, cost);

    /// <summary>Ends the scope: kernels may use the pool again, and a timed unit reports its time.</summary>
    public void Dispose()
    {
        if (_serial) CpuWorkerPool.ExitSerial();
        _chooser?.Record(_sizeClass, _serial, Stopwatch.GetElapsedTime(_start).TotalSeconds / _cost);
    }
}

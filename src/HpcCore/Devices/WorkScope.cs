// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A forward pass is a chain of a hundred or more kernels. When it is small, each parallel kernel's hand-off to the
// second core (waking it, then moving the outputs it wrote back to the calling core's cache for the next kernel)
// costs about what the split saves, and a loaded machine makes the caller wait for a preempted worker: the trained
// Fashion-MNIST ViT ran 656 img/s on one thread and 514 on two (issue #18 item 4). Each kernel already keeps small
// calls on the calling thread by its own work threshold; a scope over a whole small forward does it for all of them.
namespace HpcCore.Devices;

using HpcCore.Cpu;

/// <summary>
/// A region of work that the backend runs on the calling thread alone (see <see cref="IBackend.BeginWork"/>).
/// Dispose it on the thread that began it; a default scope does nothing.
/// </summary>
public readonly struct WorkScope : IDisposable
{
    private readonly bool _serial;

    private WorkScope(bool serial) => _serial = serial;

    /// <summary>Whether kernels inside this scope run on the calling thread only.</summary>
    public bool Serial => _serial;

    /// <summary>
    /// Starts a scope in which every CPU kernel called from this thread runs on it alone. Inside another serial scope
    /// (or a pool job) it is a no-op, so scopes nest.
    /// </summary>
    public static WorkScope SerialOnThisThread() => new(CpuWorkerPool.EnterSerial());

    /// <summary>Ends the scope: kernels may use the pool again.</summary>
    public void Dispose()
    {
        if (_serial) CpuWorkerPool.ExitSerial();
    }
}

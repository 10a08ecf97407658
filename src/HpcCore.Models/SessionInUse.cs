// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models;

/// <summary>
/// The cheap check behind "a session is used by one thread at a time" (docs/ARCHITECTURE.md, threading contracts):
/// one interlocked exchange on entry and a store on exit. Sessions own their activations and scratch, so two threads in
/// one call would silently mix each other's numbers (issue #21 saw 24-46 wrong logits in 200 with a shared VitSession);
/// the second thread gets an <see cref="InvalidOperationException"/> instead. Not a lock: nothing waits.
/// </summary>
internal struct SessionInUse
{
    private int _busy;

    /// <summary>Marks the session busy, or throws naming <paramref name="op"/> when another call is running.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on the same session.</exception>
    public void Enter(string op)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"{op}: the session is already in use by another thread; a session serves one call at a time " +
                                                "(use one session per thread, or serialise the calls).");
    }

    /// <summary>Marks the session free again (in the caller's finally).</summary>
    public void Exit() => Volatile.Write(ref _busy, 0);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Collections.Concurrent;

/// <summary>
/// Opaque handles: a handle is a key into this table, never a raw GCHandle or object address, so a stale, freed or
/// forged handle (or one of the wrong kind) is reported as HPC_ERR_INVALID_HANDLE instead of crashing the process.
/// </summary>
internal static class Handles
{
    private static readonly ConcurrentDictionary<nint, object> Table = new();

    // Start well above small integers so that an uninitialised int cast to a handle is unlikely to be valid, and step
    // by 16 so that a pointer-sized misread of a neighbouring handle is not a handle either.
    private static long _next = 0x10000;

    /// <summary>Registers <paramref name="value"/> and returns its handle.</summary>
    public static nint Add(object value)
    {
        var handle = (nint)Interlocked.Add(ref _next, 16);
        Table[handle] = value;
        return handle;
    }

    /// <summary>The object of kind <typeparamref name="T"/> behind <paramref name="handle"/>, or null when invalid.</summary>
    public static T? Get<T>(nint handle) where T : class
        => Table.TryGetValue(handle, out var value) ? value as T : null;

    /// <summary>Removes and returns the object of kind <typeparamref name="T"/>; null when invalid (nothing removed).</summary>
    public static T? Remove<T>(nint handle) where T : class
    {
        if (Get<T>(handle) is null) return null;
        return Table.TryRemove(handle, out var value) ? value as T : null;
    }
}

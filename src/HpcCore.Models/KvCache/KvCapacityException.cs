// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>The KV page pool is exhausted: the sequence needs more pages than the cache was created with.</summary>
public sealed class KvCapacityException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public KvCapacityException() { }

    /// <summary>Creates the exception with a message giving the pool's capacity and demand.</summary>
    public KvCapacityException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public KvCapacityException(string message, Exception inner) : base(message, inner) { }
}

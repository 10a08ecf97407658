// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

/// <summary>An argument check of the ABI layer itself (NULL pointer, bad handle, short buffer) with its status.</summary>
internal sealed class NativeException(HpcStatus status, string message) : Exception(message)
{
    /// <summary>The status the entry point returns.</summary>
    public HpcStatus Status { get; } = status;
}

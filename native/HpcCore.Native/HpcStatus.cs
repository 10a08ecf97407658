// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

/// <summary>Status codes of the C ABI (hpc_status in hpccore.h; keep the numbers in sync).</summary>
internal enum HpcStatus
{
    Ok = 0,
    NullPointer = 1,
    InvalidArgument = 2,
    OutOfRange = 3,
    InvalidHandle = 4,
    BufferTooSmall = 5,
    Unsupported = 6,
    OutOfMemory = 7,
    Internal = 8,
    Io = 9,
    InvalidState = 10,
}

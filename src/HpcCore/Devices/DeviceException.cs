// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Devices;

/// <summary>
/// No backend of the requested kind could be opened (none found, or <c>HPCCORE_DEVICE</c> names an unknown kind).
/// An <see cref="InvalidOperationException"/>, as before it had its own type; it exists so that a caller such as
/// the CLI can tell a device problem from any other invalid operation.
/// </summary>
public sealed class DeviceException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public DeviceException() { }

    /// <summary>Creates the exception with a message naming the kinds asked for and the providers found.</summary>
    public DeviceException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DeviceException(string message, Exception inner) : base(message, inner) { }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Front-door validation failures. Messages always name the op and the argument, and give the shapes involved,
// so that a caller can fix the call from the message alone. Throw sites stay out of the hot paths.
using System.Diagnostics.CodeAnalysis;

namespace HpcCore.Diagnostics;

using HpcCore.Tensors;

/// <summary>Throws the library's argument exceptions with uniform messages.</summary>
internal static class ThrowHelper
{
    /// <summary>Throws <see cref="ArgumentException"/>: "{op}: {argument} {problem}."</summary>
    [DoesNotReturn]
    public static void Argument(string op, string argument, string problem) =>
        throw new ArgumentException($"{op}: {argument} {problem}.", argument);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a scalar parameter.</summary>
    [DoesNotReturn]
    public static void OutOfRange(string op, string argument, object value, string rule) =>
        throw new ArgumentOutOfRangeException(argument, value, $"{op}: {argument} = {value}; {rule}.");

    /// <summary>Throws <see cref="ObjectDisposedException"/> for a disposed tensor argument.</summary>
    [DoesNotReturn]
    public static void Disposed(string op, string argument) =>
        throw new ObjectDisposedException(argument, $"{op}: {argument} was disposed.");

    /// <summary>Throws <see cref="NotSupportedException"/> for an op a backend does not implement.</summary>
    [DoesNotReturn]
    public static void NotImplementedOnDevice(string op, string device) =>
        throw new NotSupportedException($"{op}: no kernel for this op on {device}.");

    /// <summary>Throws <see cref="NotSupportedException"/> for a valid option a backend's kernel does not implement.</summary>
    [DoesNotReturn]
    public static void OptionNotSupported(string op, string option, string device) =>
        throw new NotSupportedException($"{op}: {option} is not implemented on {device}.");
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Onnx;

/// <summary>An ONNX file (or the assembly that carries one) that is malformed or not the kind of model expected.</summary>
public sealed class OnnxFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxFormatException() { }

    /// <summary>Creates the exception with a message.</summary>
    public OnnxFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public OnnxFormatException(string message, Exception inner) : base(message, inner) { }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

/// <summary>A model folder (config.json, weights, vocabulary) that is malformed or describes an unsupported model.</summary>
public sealed class EncoderFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EncoderFormatException() { }

    /// <summary>Creates the exception with a message.</summary>
    public EncoderFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public EncoderFormatException(string message, Exception inner) : base(message, inner) { }
}

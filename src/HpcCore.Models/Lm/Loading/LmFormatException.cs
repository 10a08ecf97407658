// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

/// <summary>A model or tokenizer file is malformed: a header field out of range, or the file too short or too long.</summary>
public sealed class LmFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LmFormatException() { }

    /// <summary>Creates the exception with a message naming the file and the field.</summary>
    public LmFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public LmFormatException(string message, Exception inner) : base(message, inner) { }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The one exception a malformed or unsupported safetensors file produces, whatever the defect.
namespace HpcCore.Models.Weights;

/// <summary>
/// A safetensors file (or buffer) is malformed, or uses a feature HpcCore does not support (a dtype such as F64,
/// a rank above 8, a dimension above <see cref="int.MaxValue"/>). The message starts with the file name and says
/// what is wrong, e.g. <c>model.safetensors: tensor 'w' data_offsets [0, 100] do not match F32 [3, 10] (120 bytes)</c>.
/// </summary>
/// <remarks>
/// Derives from <see cref="FormatException"/> (<see cref="InvalidDataException"/> is sealed). The reader never lets
/// any other exception type escape for bad file contents; I/O failures (missing file, permissions) stay
/// <see cref="IOException"/>s.
/// </remarks>
public sealed class SafetensorsFormatException : FormatException
{
    /// <summary>Creates the exception with a default message.</summary>
    public SafetensorsFormatException()
        : base("The safetensors data is malformed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SafetensorsFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying parse error.</summary>
    public SafetensorsFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="file"/>: the message becomes "{file}: {problem}".</summary>
    internal SafetensorsFormatException(string file, string problem, Exception? innerException)
        : base($"{file}: {problem}", innerException)
    {
        FileName = file;
    }

    /// <summary>
    /// The file (or the name given to an in-memory buffer) the problem was found in; null when unknown.
    /// </summary>
    public string? FileName { get; }
}

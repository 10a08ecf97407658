// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using HpcCore.Models.Vit;
using StbImageSharp;

/// <summary>
/// PNG, JPEG and BMP files decoded into a model's normalised input. Files are untrusted: a strict structure check
/// (<see cref="ImageHeader"/>) bounds the declared size by <see cref="ImageLimits"/> and by what the file holds before
/// StbImageSharp decodes anything, and every failure is an <see cref="InvalidDataException"/> (docs/HARDENING.md).
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes <paramref name="path"/> into <paramref name="destination"/> [C, S, S] for <paramref name="config"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is too large, not an image, corrupt, or cannot be read.</exception>
    public static void Decode(string path, VitConfig config, Span<float> destination, ImageLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        limits ??= ImageLimits.Default;
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"ImageDecoder.Decode: no file '{path}'", path);
        if (info.Length > limits.MaxBytes)
            throw new InvalidDataException($"ImageDecoder.Decode: '{path}' has {info.Length} bytes, above the {limits.MaxBytes}-byte limit");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException and not FileNotFoundException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"ImageDecoder.Decode: '{path}' could not be read: {e.Message}", e);
        }
        Decode(bytes, config, destination, path, limits);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, exceed <paramref name="limits"/>
    /// (default <see cref="ImageLimits.Default"/>), or are corrupt.</exception>
    public static void Decode(byte[] encoded, VitConfig config, Span<float> destination, string source = "<bytes>", ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Channels is not (1 or 3))
            throw new ArgumentException($"ImageDecoder.Decode: models with {config.Channels} channels are not supported (1 or 3)", nameof(config));
        var (pixels, width, height) = DecodePixels(encoded, config.Channels, source, limits);
        ImageTensor.Write(pixels, height, width, config, destination);
    }

    /// <summary>
    /// Decodes encoded image bytes to 8-bit pixels, row-major [H, W, <paramref name="channels"/>] (1: grey, 3: RGB),
    /// after the checks of <see cref="Probe"/>: the unnormalised image, for models that take their own input layout.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, exceed <paramref name="limits"/>
    /// (default <see cref="ImageLimits.Default"/>), or are corrupt.</exception>
    public static (byte[] Pixels, int Width, int Height) DecodePixels(byte[] encoded, int channels, string source = "<bytes>", ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        limits ??= ImageLimits.Default;
        limits.Validate();
        var components = channels switch
        {
            1 => ColorComponents.Grey,
            3 => ColorComponents.RedGreenBlue,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), $"ImageDecoder.DecodePixels: {channels} channels are not supported (1 or 3)"),
        };
        var header = ImageHeader.Parse(encoded, limits, source);
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(encoded, components);
        }
        catch (Exception ex) when (ex is not InvalidDataException)
        {
            // StbImageSharp reports corrupt data with assorted exception types (InvalidOperationException, index and
            // null-reference errors, and OutOfMemoryException from its own bookkeeping): one documented type here.
            throw new InvalidDataException($"ImageDecoder.Decode: '{source}' could not be decoded: {ex.Message}", ex);
        }
        if (image.Width != header.Width || image.Height != header.Height)
            throw new InvalidDataException($"ImageDecoder.Decode: '{source}' decoded to {image.Width}x{image.Height}, not the {header.Width}x{header.Height} its header declares");
        return (image.Data, image.Width, image.Height);
    }

    /// <summary>The format and size <paramref name="encoded"/> declares, after the same checks <see cref="Decode(byte[], VitConfig, Span{float}, string, ImageLimits?)"/> makes.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image, exceed the limits, or are malformed.</exception>
    public static (ImageFormat Format, int Width, int Height) Probe(ReadOnlySpan<byte> encoded, string source = "<bytes>", ImageLimits? limits = null)
    {
        var h = ImageHeader.Parse(encoded, limits ?? ImageLimits.Default, source);
        return (h.Format, h.Width, h.Height);
    }
}

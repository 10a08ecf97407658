// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

using HpcCore.Models.Vit;
using StbImageSharp;

/// <summary>PNG, JPEG, BMP and TGA files decoded by StbImageSharp into a model's normalised input.</summary>
public static class ImageDecoder
{
    /// <summary>Largest accepted file (64 MiB) and decoded image (64 megapixels): untrusted input.</summary>
    public const int MaxBytes = 64 << 20, MaxPixels = 64 << 20;

    /// <summary>Decodes <paramref name="path"/> into <paramref name="destination"/> [C, S, S] for <paramref name="config"/>.</summary>
    /// <exception cref="InvalidDataException">The file is too large, not an image, or corrupt.</exception>
    public static void Decode(string path, VitConfig config, Span<float> destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"ImageDecoder.Decode: no file '{path}'", path);
        if (info.Length > MaxBytes)
            throw new InvalidDataException($"ImageDecoder.Decode: '{path}' has {info.Length} bytes, above the {MaxBytes}-byte limit");
        Decode(File.ReadAllBytes(path), config, destination, path);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported image or are corrupt.</exception>
    public static void Decode(byte[] encoded, VitConfig config, Span<float> destination, string source = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(config);
        var components = config.Channels switch
        {
            1 => ColorComponents.Grey,
            3 => ColorComponents.RedGreenBlue,
            _ => throw new ArgumentException($"ImageDecoder.Decode: models with {config.Channels} channels are not supported (1 or 3)", nameof(config)),
        };
        ImageResult image;
        try
        {
            // stb reads the header first; refuse huge declared sizes before it allocates the pixels.
            using (var probe = new MemoryStream(encoded, writable: false))
            {
                var head = ImageInfo.FromStream(probe)
                    ?? throw new InvalidDataException($"ImageDecoder.Decode: '{source}' is not a PNG, JPEG, BMP or TGA image");
                if ((long)head.Width * head.Height > MaxPixels)
                    throw new InvalidDataException($"ImageDecoder.Decode: '{source}' declares {head.Width}x{head.Height} pixels, above the {MaxPixels}-pixel limit");
            }
            image = ImageResult.FromMemory(encoded, components);
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException or OverflowException)
        {
            throw new InvalidDataException($"ImageDecoder.Decode: '{source}' could not be decoded: {ex.Message}", ex);
        }
        ImageTensor.Write(image.Data, image.Height, image.Width, config, destination);
    }
}

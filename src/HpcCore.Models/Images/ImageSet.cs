// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Images;

/// <summary>
/// Labelled grey images in memory: <see cref="Count"/> images of <see cref="Height"/> x <see cref="Width"/> bytes
/// and one label each (an MNIST-style test set).
/// </summary>
public sealed class ImageSet
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    private ImageSet(byte[] pixels, byte[] labels, int count, int height, int width)
    {
        _pixels = pixels;
        _labels = labels;
        Count = count;
        Height = height;
        Width = width;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Pixels of image <paramref name="index"/>, row-major, 0..255.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _pixels.AsSpan(index * Height * Width, Height * Width);
    }

    /// <summary>Label of image <paramref name="index"/>.</summary>
    public int Label(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _labels[index];
    }

    /// <summary>
    /// Loads an MNIST-style test split from <paramref name="directory"/>: t10k-images-idx3-ubyte[.gz] and
    /// t10k-labels-idx1-ubyte[.gz] (train-* when <paramref name="split"/> is "train").
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">The files are malformed or disagree on the image count.</exception>
    public static ImageSet LoadIdx(string directory, string split = "test")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string prefix = split == "train" ? "train" : "t10k";
        var images = IdxFile.Read(Find(directory, $"{prefix}-images-idx3-ubyte"));
        var labels = IdxFile.Read(Find(directory, $"{prefix}-labels-idx1-ubyte"));
        return FromIdx(images, labels, directory);
    }

    /// <summary>Pairs an images file [N, H, W] with a labels file [N].</summary>
    /// <exception cref="InvalidDataException">The ranks or counts do not match.</exception>
    public static ImageSet FromIdx(IdxFile images, IdxFile labels, string source = "<idx>")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Dims.Count != 3)
            throw new InvalidDataException($"ImageSet.FromIdx: '{source}' images have rank {images.Dims.Count}; [N, H, W] expected");
        if (labels.Dims.Count != 1 || labels.Dims[0] != images.Dims[0])
            throw new InvalidDataException($"ImageSet.FromIdx: '{source}' has {images.Dims[0]} images but labels [{string.Join(", ", labels.Dims)}]");
        return new ImageSet(images.Data, labels.Data, images.Dims[0], images.Dims[1], images.Dims[2]);
    }

    private static string Find(string dir, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name, name.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            string p = Path.Combine(dir, candidate);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"ImageSet.LoadIdx: no {name}[.gz] in '{dir}'", Path.Combine(dir, name + ".gz"));
    }
}

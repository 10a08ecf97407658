// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Builders for hand-made safetensors bytes and a throw-away folder for files, shared by the weights tests.
using System.Text;

namespace HpcCore.Tests.Models.Weights;

using HpcCore.Tensors;

/// <summary>Hand-built safetensors bytes, following the published format rather than our writer.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>u64 LE length of <paramref name="json"/> (or <paramref name="lengthField"/>), the JSON, then data.</summary>
    public static byte[] Build(string json, ReadOnlySpan<byte> data, ulong? lengthField = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + data.Length];
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), lengthField ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file.AsSpan(8 + header.Length));
        return file;
    }

    /// <summary>As <see cref="Build(string, ReadOnlySpan{byte}, ulong?)"/> with <paramref name="dataBytes"/> bytes 0, 1, 2, ...</summary>
    public static byte[] Build(string json, int dataBytes, ulong? lengthField = null)
    {
        var data = new byte[dataBytes];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)i;
        return Build(json, data, lengthField);
    }

    /// <summary>All bytes of a tensor, row-major, read through its backend.</summary>
    public static byte[] Bytes(Tensor tensor)
    {
        using var c = tensor.Contiguous();
        var bytes = new byte[c.ElementCount * c.DType.SizeInBytes()];
        c.Backend.CopyToHost(c.Storage, c.ByteOffset, bytes);
        return bytes;
    }

    /// <summary>Seeded bytes that are valid values of <paramref name="dtype"/> (0/1 for Bool).</summary>
    public static byte[] RandomBytes(DType dtype, long elements, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[elements * dtype.SizeInBytes()];
        rng.NextBytes(bytes);
        if (dtype == DType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return bytes;
    }
}

/// <summary>A fresh folder under the temp path, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hpccore-weights-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A mapping still open elsewhere in the test is not worth failing over.
        }
    }
}

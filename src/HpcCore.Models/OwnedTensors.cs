// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models;

using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>
/// The activations a session owns: flat buffers allocated once, shaped views of their prefixes (one buffer serves
/// every batch and token count up to its size), all disposed together. Shared by VitSession and EncoderSession.
/// </summary>
internal sealed class OwnedTensors : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <summary>A flat tensor of <paramref name="count"/> elements.</summary>
    public Tensor Flat(long count, DType dtype, IBackend backend) =>
        Own(Tensor.Empty(new Shape(checked((int)count)), dtype, backend));

    /// <summary>The first prod(<paramref name="dims"/>) elements of <paramref name="flat"/>, shaped <paramref name="dims"/>.</summary>
    public Tensor View(Tensor flat, params int[] dims)
    {
        long n = 1;
        foreach (int v in dims) n *= v;
        using var part = flat.Narrow(0, 0, checked((int)n));
        return Own(part.Reshape(dims));
    }

    /// <summary>Takes ownership of <paramref name="t"/>.</summary>
    public Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}

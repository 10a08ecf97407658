// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Shared front-door checks for ops, applied in a fixed order: disposed -> device -> dtype -> rank -> shape -> layout.
namespace HpcCore.Diagnostics;

using HpcCore.Tensors;

/// <summary>Argument checks every op's front door uses.</summary>
internal static class Check
{
    /// <summary>The tensor is live.</summary>
    public static void Live(string op, string name, Tensor? t)
    {
        if (t is null) throw new ArgumentNullException(name, $"{op}: {name} is null.");
        t.ThrowIfDisposed(op, name);
    }

    /// <summary>Both tensors live on the same backend.</summary>
    public static void SameDevice(string op, string name, Tensor t, Tensor reference, string referenceName)
    {
        if (!ReferenceEquals(t.Backend, reference.Backend))
            ThrowHelper.Argument(op, name, $"is on {t.Device} but {referenceName} is on {reference.Device}");
    }

    /// <summary>The tensor has the expected dtype.</summary>
    public static void DType(string op, string name, Tensor t, Tensors.DType expected)
    {
        if (t.DType != expected)
            ThrowHelper.Argument(op, name, $"has dtype {t.DType} (shape {t.Shape}); expected {expected}");
    }

    /// <summary>The tensor has at least <paramref name="minRank"/> axes.</summary>
    public static void MinRank(string op, string name, Tensor t, int minRank)
    {
        if (t.Rank < minRank)
            ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected rank >= {minRank}");
    }

    /// <summary>The tensor has exactly <paramref name="rank"/> axes.</summary>
    public static void Rank(string op, string name, Tensor t, int rank, string layout)
    {
        if (t.Rank != rank)
            ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected {layout}");
    }

    /// <summary>
    /// The tensor has exactly <paramref name="shape"/>. The message is only built on failure (no allocation on the
    /// happy path), naming <paramref name="other"/>'s shape when given.
    /// </summary>
    public static void Shape(string op, string name, Tensor t, Shape shape, string because, Tensor? other = null, string? otherName = null)
    {
        if (t.Shape != shape)
        {
            string context = other is null ? because : $"{because}; {otherName} is {other.Shape}";
            ThrowHelper.Argument(op, name, $"has shape {t.Shape}; expected {shape} ({context})");
        }
    }

    /// <summary>The tensor is laid out row-major without gaps.</summary>
    public static void Contiguous(string op, string name, Tensor t)
    {
        if (!t.IsContiguous)
            ThrowHelper.Argument(op, name, $"is a non-contiguous view of shape {t.Shape}; call Contiguous() first");
    }

    /// <summary>Full front-door check of a live, same-device, contiguous tensor of a dtype.</summary>
    public static void Operand(string op, string name, Tensor? t, Tensor reference, string referenceName, Tensors.DType dtype)
    {
        Live(op, name, t);
        SameDevice(op, name, t!, reference, referenceName);
        DType(op, name, t!, dtype);
        Contiguous(op, name, t!);
    }

    /// <summary>A live, contiguous first operand of the given dtype and rank (the others are checked against it).</summary>
    public static void Input(string op, string name, Tensor t, Tensors.DType dtype, int rank, string layout)
    {
        Live(op, name, t);
        DType(op, name, t, dtype);
        Rank(op, name, t, rank, layout);
        Contiguous(op, name, t);
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using System.Runtime.CompilerServices;

namespace HpcCore.Tensors;

/// <summary>Per-axis strides in elements, held inline (rank up to <see cref="Shape.MaxRank"/>).</summary>
[InlineArray(Shape.MaxRank)]
public struct Strides
{
    private long _element;

    /// <summary>Row-major (C-order) strides for <paramref name="shape"/>.</summary>
    public static Strides RowMajor(Shape shape)
    {
        var s = new Strides();
        long step = 1;
        for (int i = shape.Rank - 1; i >= 0; i--)
        {
            s[i] = step;
            step *= shape[i];
        }
        return s;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

/// <summary>How <see cref="Scatter.Reduce"/> combines source rows into a destination row.</summary>
public enum ScatterMode
{
    /// <summary>dst += w * src.</summary>
    Sum,
    /// <summary>Rows receiving c &gt;= 1 sources become (dst + sum of w * src) / (1 + c) (torch include_self=True).</summary>
    Mean,
    /// <summary>dst = max(dst, src) elementwise.</summary>
    Amax,
}

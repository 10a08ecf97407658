// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Diagnostics;
using HpcCore.Tensors;

/// <summary>
/// How a tensor's last two axes sit in memory for BLAS-style kernels: row-major with leading dimension Ld
/// (last axis stride 1), or column-major (second-to-last axis stride 1), plus one stride for all batch axes.
/// </summary>
internal readonly record struct MatrixView(bool ColumnMajor, long Ld, int Batch, long BatchStride)
{
    public static MatrixView Resolve(Tensor t, string op, string name)
    {
        if (t.IsContiguous) return Contiguous(t, op, name);
        int rows = t.Shape[-2], cols = t.Shape[-1];
        long rs = t.Stride(-2), cs = t.Stride(-1);
        bool colMajor;
        long ld;
        if (cols <= 1 || cs == 1)
        {
            colMajor = false;
            ld = rows <= 1 ? Math.Max(cols, 1) : rs;
        }
        else if (rows <= 1 || rs == 1)
        {
            colMajor = true;
            ld = cols <= 1 ? Math.Max(rows, 1) : cs;
        }
        else
        {
            ThrowHelper.Argument(op, name, $"has shape {t.Shape} with strides ({rs}, {cs}) on its last two axes; one of them must be 1 (call Contiguous())");
            return default;
        }
        if ((!colMajor && ld < cols) || (colMajor && ld < rows))
            ThrowHelper.Argument(op, name, $"has overlapping rows (shape {t.Shape}, strides ({rs}, {cs}))");

        // Leading axes must collapse into one batch axis with a single stride.
        long batch = 1, batchStride = 0;
        for (int ax = t.Rank - 3; ax >= 0; ax--)
        {
            int size = t.Shape[ax];
            if (size == 1) continue;
            long expected = batch == 1 ? t.Stride(ax) : batchStride * batch;
            if (batch == 1) batchStride = t.Stride(ax);
            else if (t.Stride(ax) != expected)
                ThrowHelper.Argument(op, name, $"has shape {t.Shape} whose batch axes do not collapse to one stride (call Contiguous())");
            batch *= size;
        }
        if (batch > int.MaxValue) ThrowHelper.Argument(op, name, $"has {batch} matrices; at most {int.MaxValue} are supported");
        return new MatrixView(colMajor, ld, (int)batch, batchStride);
    }

    // The general path's answer for a row-major, gap-free tensor (the common case: a decoder's activations and
    // weights), without its stride walk: every non-unit axis has the row-major stride, so the last axis has stride 1,
    // a matrix's rows are cols apart, and the leading axes collapse to one batch of stride rows x cols.
    private static MatrixView Contiguous(Tensor t, string op, string name)
    {
        var shape = t.Shape;
        int rank = shape.Rank, rows = shape[rank - 2], cols = shape[rank - 1];
        long batch = 1;
        for (int ax = 0; ax < rank - 2; ax++) batch *= shape[ax];
        if (batch > int.MaxValue) ThrowHelper.Argument(op, name, $"has {batch} matrices; at most {int.MaxValue} are supported");
        long ld = rows <= 1 ? Math.Max(cols, 1) : cols;
        return new MatrixView(false, ld, (int)batch, batch > 1 ? (long)rows * cols : 0);
    }
}

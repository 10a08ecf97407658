// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Probability-weighted sum of a head's values for a GQA group's query heads, walked page by page.
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

/// <summary>o_g = sum_j p[g * stride + j] v_j for paged attention.</summary>
internal static unsafe class PagedValues
{
    /// <summary>Writes o [group, D] (overwritten; zeros when n = 0) from the first n values.</summary>
    public static void Accumulate(float* p, int stride, int group, in PagedRows values, int n, float* o)
    {
        int d = values.D, rows = values.SegmentRows;
        new Span<float>(o, group * d).Clear();
        for (int start = 0, seg = 0; start < n; start += rows, seg++)
        {
            float* v = values.Segment(seg);
            int m = Math.Min(rows, n - start);
            for (int i = 0; i < m; i++)
            {
                var value = new ReadOnlySpan<float>(v + (long)i * d, d);
                for (int g = 0; g < group; g++)
                {
                    var og = new Span<float>(o + g * d, d);
                    TensorPrimitives.MultiplyAdd(value, p[g * stride + start + i], og, og);
                }
            }
        }
    }
}

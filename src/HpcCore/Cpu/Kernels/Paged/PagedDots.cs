// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Scores of a GQA group's query heads against a head's keys, walked page by page: each key is loaded once for the
// whole group.
using System.Numerics.Tensors;

namespace HpcCore.Cpu;

/// <summary>q.k scores for paged attention.</summary>
internal static unsafe class PagedDots
{
    /// <summary>s[g * stride + j] = scale * q_g . k_j for the group's queries q [group, D] and the first n keys.</summary>
    public static void Scores(float* q, int group, in PagedRows keys, int n, float scale, float* s, int stride)
    {
        int d = keys.D, p = keys.SegmentRows;
        for (int start = 0, seg = 0; start < n; start += p, seg++)
        {
            float* k = keys.Segment(seg);
            int m = Math.Min(p, n - start);
            for (int i = 0; i < m; i++)
            {
                var key = new ReadOnlySpan<float>(k + (long)i * d, d);
                for (int g = 0; g < group; g++)
                    s[g * stride + start + i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + g * d, d), key) * scale;
            }
        }
    }
}

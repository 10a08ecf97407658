// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Top-k token selection for the policies: indices of the k largest scores in a range (ties: the lower index wins),
/// returned in ascending index order. A bounded min-heap, O(n log k), no allocation.
/// </summary>
public static class KvTopK
{
    /// <summary>
    /// Writes the indices in [<paramref name="lo"/>, <paramref name="hi"/>) with the <paramref name="k"/> largest
    /// <paramref name="scores"/> into <paramref name="destination"/>, ascending; returns how many (min(k, hi - lo)).
    /// </summary>
    public static int Select(ReadOnlySpan<float> scores, int lo, int hi, int k, Span<int> destination)
    {
        int n = Math.Min(Math.Max(k, 0), Math.Max(hi - lo, 0));
        if (n == 0) return 0;
        var heap = destination[..n];
        int size = 0;
        for (int i = lo; i < hi; i++)
        {
            if (size < n)
            {
                heap[size] = i;
                SiftUp(scores, heap, size++);
            }
            else if (Better(scores, i, heap[0]))
            {
                heap[0] = i;
                SiftDown(scores, heap, 0, n);
            }
        }
        heap.Sort();
        return n;
    }

    // a ranks above b: larger score, or equal score and lower index.
    private static bool Better(ReadOnlySpan<float> s, int a, int b) => s[a] > s[b] || (s[a] == s[b] && a < b);

    private static void SiftUp(ReadOnlySpan<float> s, Span<int> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(s, heap[parent], heap[i])) break;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> s, Span<int> heap, int i, int size)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && Better(s, heap[worst], heap[l])) worst = l;
            if (r < size && Better(s, heap[worst], heap[r])) worst = r;
            if (worst == i) return;
            (heap[worst], heap[i]) = (heap[i], heap[worst]);
            i = worst;
        }
    }
}

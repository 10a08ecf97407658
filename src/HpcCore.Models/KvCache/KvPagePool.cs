// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// The free list of a cache's page ids. Pages live in the cache's backend tensors; this only hands out ids. A page
/// freed by eviction is the next one handed out, so a policy that keeps fewer tokens really holds fewer pages and
/// recycled pages are already touched memory.
/// </summary>
public sealed class KvPagePool
{
    private readonly int[] _free;
    private int _freeCount;

    internal KvPagePool(int maxPages, long bytesPerPage)
    {
        MaxPages = maxPages;
        BytesPerPage = bytesPerPage;
        _free = new int[maxPages];
        // Lowest ids first, so a short sequence touches the start of the pool only.
        for (int i = 0; i < maxPages; i++) _free[i] = maxPages - 1 - i;
        _freeCount = maxPages;
    }

    /// <summary>Capacity in pages.</summary>
    public int MaxPages { get; }
    /// <summary>Bytes of one page: keys and values of P tokens in the cache's dtype.</summary>
    public long BytesPerPage { get; }
    /// <summary>Pages handed out and not yet returned.</summary>
    public int PagesInUse => MaxPages - _freeCount;
    /// <summary>Bytes held by pages in use.</summary>
    public long BytesHeld => PagesInUse * BytesPerPage;
    /// <summary>Highest <see cref="BytesHeld"/> seen since creation or <see cref="ResetPeak"/>.</summary>
    public long PeakBytesHeld { get; private set; }

    /// <summary>Forgets the peak (a new measurement).</summary>
    public void ResetPeak() => PeakBytesHeld = BytesHeld;

    internal int Rent()
    {
        if (_freeCount == 0)
            throw new KvCapacityException($"KvPagePool.Rent: all {MaxPages} pages are in use ({BytesHeld} bytes); " +
                                          "create the cache with more pages or use an evicting policy.");
        int page = _free[--_freeCount];
        PeakBytesHeld = Math.Max(PeakBytesHeld, BytesHeld);
        return page;
    }

    internal void Return(int page) => _free[_freeCount++] = page;
}

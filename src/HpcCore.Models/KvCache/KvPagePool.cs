// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// Fixed-size KV pages shared by every (layer, kv head) of a cache. A page freed by eviction goes back on the free
/// list and is the next one handed out, so a policy that keeps fewer tokens really holds fewer bytes and the
/// sequence can grow further within the same capacity. Pages are created on first need (fresh memory costs page
/// faults), then recycled forever.
/// </summary>
public sealed class KvPagePool
{
    private readonly Stack<KvPage> _free;

    /// <summary>Creates a pool of at most <paramref name="maxPages"/> pages of <paramref name="pageTokens"/> tokens.</summary>
    public KvPagePool(int pageTokens, int headDim, int maxPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPages);
        PageTokens = pageTokens;
        HeadDim = headDim;
        MaxPages = maxPages;
        _free = new Stack<KvPage>(maxPages);
    }

    /// <summary>Tokens per page P.</summary>
    public int PageTokens { get; }
    /// <summary>Head dim D.</summary>
    public int HeadDim { get; }
    /// <summary>Capacity in pages.</summary>
    public int MaxPages { get; }
    /// <summary>Pages handed out and not yet returned.</summary>
    public int PagesInUse { get; private set; }
    /// <summary>Pages ever created (in use or on the free list).</summary>
    public int PagesCreated { get; private set; }
    /// <summary>Bytes of one page.</summary>
    public long BytesPerPage => KvPage.BytesFor(PageTokens, HeadDim);
    /// <summary>Bytes held by pages in use: what the sequence's cache costs now.</summary>
    public long BytesHeld => PagesInUse * BytesPerPage;
    /// <summary>Highest <see cref="BytesHeld"/> seen.</summary>
    public long PeakBytesHeld { get; private set; }

    /// <summary>A page for one more block of tokens; throws <see cref="KvCapacityException"/> when all are in use.</summary>
    public KvPage Rent()
    {
        if (PagesInUse == MaxPages)
            throw new KvCapacityException($"KvPagePool.Rent: all {MaxPages} pages of {PageTokens} tokens are in use " +
                                          $"({BytesHeld} bytes); create the cache with a larger capacity or use an evicting policy.");
        var page = _free.Count > 0 ? _free.Pop() : Create();
        PagesInUse++;
        PeakBytesHeld = Math.Max(PeakBytesHeld, BytesHeld);
        return page;
    }

    /// <summary>Returns a page to the free list.</summary>
    public void Return(KvPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        _free.Push(page);
        PagesInUse--;
    }

    private KvPage Create()
    {
        PagesCreated++;
        return new KvPage(PageTokens, HeadDim);
    }
}

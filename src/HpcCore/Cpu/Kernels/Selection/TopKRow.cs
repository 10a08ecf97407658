// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Top-k of one row in O(N + k) passes instead of a full O(N log N) sort:
//  1. rank keys: sortable uint keys (SortableKey), complemented for a descending order, so "best" is always the
//     smallest key;
//  2. radix select (8-bit digits, most significant first) finds the k-th smallest key T and how many of the keys
//     equal to T to keep; candidates are compacted after each digit so later passes touch only the survivors;
//  3. one pass in index order keeps keys below T and the first `need` keys equal to T (ties go to the lower index);
//  4. a stable LSD radix sort of the k survivors by key (passes whose digit is constant are skipped) keeps index
//     order among equal keys; tiny k uses insertion sort.
// Rows of at most SmallRow columns skip 2-4 and introsort unique (key << 32 | index) composites instead.
// A small k (at most HeapK) on a long row keeps a max-heap of the k best (key << 32 | index) composites in one pass
// instead: most elements are rejected by one compare with the heap's top, and the scratch is 2k uints, not 6N (a top-3
// of a long row took 24 bytes per element; issue #21). Unique composites make the heap's result exactly the radix path's.
// Scratch: ScratchUints(N, k) per row, supplied by the caller (pooled), so steady-state calls allocate nothing.
namespace HpcCore.Cpu;

/// <summary>Deterministic top-k / argsort of one row.</summary>
internal static unsafe class TopKRow
{
    // Rows up to this length take the composite-sort path (`quick selection`: faster at 197 columns, see BENCHMARKS.md).
    private const int SmallRow = 256;

    // Largest k that takes the heap path on rows longer than SmallRow.
    private const int HeapK = 64;

    /// <summary>Scratch uints needed for a top-<paramref name="k"/> of a row of <paramref name="n"/>.</summary>
    public static long ScratchUints(int n, int k) => n > SmallRow && k <= HeapK ? 2L * k : 6L * n;

    /// <summary>
    /// Writes the indices of the k best scores (by descending score when <paramref name="descending"/>, else
    /// ascending; ties to the lower index) to <paramref name="indices"/>, and their scores to <paramref name="values"/>
    /// when it is not null.
    /// </summary>
    public static void Run(float* scores, int n, int k, bool descending, int* indices, float* values, uint* scratch)
    {
        if (k == 0) return;
        uint flip = descending ? uint.MaxValue : 0u;
        if (n > SmallRow && k <= HeapK)
        {
            HeapSelect(scores, n, k, flip, indices, (ulong*)scratch);
        }
        else
        {
            RankAndSelect(scores, n, k, flip, indices, scratch);
        }
        if (values != null)
            for (int j = 0; j < k; j++) values[j] = scores[indices[j]];
    }

    private static void RankAndSelect(float* scores, int n, int k, uint flip, int* indices, uint* scratch)
    {
        uint* keys = scratch;
        SortableKey.Fill(scores, keys, n, flip);

        if (n <= SmallRow)
        {
            SortComposites(keys, n, k, indices, (ulong*)(scratch + 2L * n));
        }
        else
        {
            SelectAndSort(keys, n, k, indices, scratch);
        }
    }

    // The k smallest unique composites (key << 32 | index) through a max-heap of k; then sorted ascending. Indices
    // rise through the scan, so an element tying the top's key has a larger composite and never displaces it: ties go
    // to the lower index, as on the radix path.
    private static void HeapSelect(float* scores, int n, int k, uint flip, int* indices, ulong* heap)
    {
        for (int i = 0; i < k; i++)
        {
            heap[i] = ((ulong)(SortableKey.Of(scores[i]) ^ flip) << 32) | (uint)i;
            SiftUp(heap, i);
        }
        for (int i = k; i < n; i++)
        {
            ulong c = ((ulong)(SortableKey.Of(scores[i]) ^ flip) << 32) | (uint)i;
            if (c >= heap[0]) continue;
            heap[0] = c;
            SiftDown(heap, k);
        }
        new Span<ulong>(heap, k).Sort();
        for (int j = 0; j < k; j++) indices[j] = (int)(uint)heap[j];
    }

    private static void SiftUp(ulong* heap, int i)
    {
        ulong c = heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (heap[parent] >= c) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = c;
    }

    private static void SiftDown(ulong* heap, int count)
    {
        ulong c = heap[0];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && heap[child + 1] > heap[child]) child++;
            if (heap[child] <= c) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = c;
    }

    // Short rows: one introsort of unique (key << 32 | index) composites beats four 256-bucket histogram passes.
    private static void SortComposites(uint* keys, int n, int k, int* indices, ulong* composite)
    {
        for (int i = 0; i < n; i++) composite[i] = ((ulong)keys[i] << 32) | (uint)i;
        new Span<ulong>(composite, n).Sort();
        for (int j = 0; j < k; j++) indices[j] = (int)(uint)composite[j];
    }

    private static void SelectAndSort(uint* keys, int n, int k, int* indices, uint* scratch)
    {
        uint* cand = scratch + n, ck = scratch + 2L * n, ci = scratch + 3L * n, tk = scratch + 4L * n, ti = scratch + 5L * n;
        int count;
        if (k == n)
        {
            for (int i = 0; i < n; i++)
            {
                ck[i] = keys[i];
                ci[i] = (uint)i;
            }
            count = n;
        }
        else
        {
            var (threshold, need) = Select(keys, cand, n, k);
            count = 0;
            for (int i = 0; i < n; i++)
            {
                uint key = keys[i];
                if (key < threshold || (key == threshold && need-- > 0))
                {
                    ck[count] = key;
                    ci[count++] = (uint)i;
                }
            }
        }

        uint* sortedIdx = Sort(ck, ci, tk, ti, count);
        for (int j = 0; j < k; j++) indices[j] = (int)sortedIdx[j];
    }

    // Radix select: the k-th smallest key (threshold) and how many keys equal to it belong to the top k.
    private static (uint Threshold, int Need) Select(uint* keys, uint* cand, int n, int k)
    {
        int* hist = stackalloc int[256];
        uint prefix = 0;
        int remaining = k, live = n;
        uint* src = keys;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            new Span<int>(hist, 256).Clear();
            for (int i = 0; i < live; i++) hist[(src[i] >> shift) & 0xFF]++;
            int bucket = 0;
            while (remaining > hist[bucket]) remaining -= hist[bucket++];
            prefix |= (uint)bucket << shift;
            if (shift == 0) break;
            // Keep only the candidates in the chosen bucket (compaction into cand; in place after the first pass).
            int kept = 0;
            for (int i = 0; i < live; i++)
            {
                uint key = src[i];
                if (((key >> shift) & 0xFF) == (uint)bucket) cand[kept++] = key;
            }
            src = cand;
            live = kept;
        }
        return (prefix, remaining);
    }

    // Stable ascending sort of keys with their index payload; returns the buffer holding the sorted indices.
    private static uint* Sort(uint* keys, uint* idx, uint* tmpKeys, uint* tmpIdx, int count)
    {
        if (count <= 32)
        {
            for (int i = 1; i < count; i++)
            {
                uint key = keys[i], id = idx[i];
                int j = i - 1;
                while (j >= 0 && keys[j] > key)
                {
                    keys[j + 1] = keys[j];
                    idx[j + 1] = idx[j];
                    j--;
                }
                keys[j + 1] = key;
                idx[j + 1] = id;
            }
            return idx;
        }
        int* hist = stackalloc int[256];
        for (int shift = 0; shift < 32; shift += 8)
        {
            new Span<int>(hist, 256).Clear();
            for (int i = 0; i < count; i++) hist[(keys[i] >> shift) & 0xFF]++;
            if (hist[(keys[0] >> shift) & 0xFF] == count) continue; // every key shares this digit
            int sum = 0;
            for (int b = 0; b < 256; b++)
            {
                int c = hist[b];
                hist[b] = sum;
                sum += c;
            }
            for (int i = 0; i < count; i++)
            {
                int pos = hist[(keys[i] >> shift) & 0xFF]++;
                tmpKeys[pos] = keys[i];
                tmpIdx[pos] = idx[i];
            }
            uint* swap = keys;
            keys = tmpKeys;
            tmpKeys = swap;
            swap = idx;
            idx = tmpIdx;
            tmpIdx = swap;
        }
        return idx;
    }
}

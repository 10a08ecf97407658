// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BlockMask lookups for the fused tile: the lanes of a tile ((head-in-group, query) pairs) fall into a few
// distinct block-mask rows (one per (head, query block)); a key's keep bits for all lanes are the OR of the lane
// sets of the rows that keep its key block, cached per key block so that contiguous keys cost one compare.
namespace HpcCore.Cpu;

/// <summary>The lanes of a tile that keep a key position under the block mask.</summary>
internal unsafe struct AttentionBlockLanes
{
    private const int MaxRows = 32;
    private fixed long _rows[MaxRows];
    private fixed uint _lanes[MaxRows];
    private int _count, _blockSize, _cachedBlock;
    private uint _cachedLanes;

    /// <summary>Groups <paramref name="lanes"/> lanes of kv head hkv by their block-mask row.</summary>
    public void Init(in AttentionProblem p, int b, int hkv, int* laneT, int* laneG, int lanes)
    {
        _count = 0;
        _blockSize = p.BlockSize;
        _cachedBlock = -1;
        for (int i = 0; i < lanes; i++)
        {
            long row = (long)p.BlockRow(b, hkv * p.Group + laneG[i], laneT[i]);
            int r = 0;
            while (r < _count && _rows[r] != row) r++;
            if (r == _count)
            {
                _rows[r] = row;
                _lanes[r] = 0;
                _count++;
            }
            _lanes[r] |= 1u << i;
        }
    }

    /// <summary>Bit i set when lane i keeps key position <paramref name="pos"/>.</summary>
    public uint Lanes(int pos)
    {
        int block = pos / _blockSize;
        if (block == _cachedBlock) return _cachedLanes;
        uint lanes = 0;
        for (int r = 0; r < _count; r++)
            if (((byte*)_rows[r])[block] != 0) lanes |= _lanes[r];
        _cachedBlock = block;
        _cachedLanes = lanes;
        return lanes;
    }
}

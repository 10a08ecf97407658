// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models;

using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// A model's nn.Linear weights ([out, in], multiplied transposed) packed for the GEMM once, on first use, and kept
/// with the model (issue #18: no per-call packing; memory grows by at most the packed copy). Owned by the weights
/// object (VitWeights, EncoderWeights, LmWeights) and disposed with it; safe to share across sessions and threads.
/// A lookup is a dictionary probe under a lock: no allocation after a weight's first pack.
/// </summary>
public sealed class PackedWeights : IDisposable
{
    private readonly Dictionary<Tensor, PackedMatrix> _packs = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>The packed form of <paramref name="weight"/> [out, in] (packed now if this is its first use).</summary>
    public PackedMatrix Of(Tensor weight)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_packs.TryGetValue(weight, out var packed))
            {
                packed = Gemm.Pack(weight, transposeB: true);
                _packs.Add(weight, packed);
            }
            return packed;
        }
    }

    /// <summary>Bytes held by the packed copies made so far.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate) return _packs.Values.Sum(p => p.PackedBytes);
        }
    }

    /// <summary>Releases every packed copy (the source weights are not the packs' to dispose).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var p in _packs.Values) p.Dispose();
            _packs.Clear();
        }
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Weights;

using HpcCore.Tensors;

/// <summary>
/// Every tensor a <see cref="SafetensorsReader"/> hands out between <see cref="SafetensorsReader.TrackLoads"/> and
/// <see cref="Dispose"/>: a loader that fails part-way disposes them all (and with them their leases on the file
/// mapping) unless it reached <see cref="Commit"/>. Without it, a failed load kept the whole mapping alive.
/// </summary>
internal sealed class SafetensorsLoadScope : IDisposable
{
    private readonly SafetensorsReader _reader;
    private readonly List<Tensor> _loaded = [];
    private bool _committed;

    internal SafetensorsLoadScope(SafetensorsReader reader) => _reader = reader;

    internal void Add(Tensor tensor)
    {
        lock (_loaded) _loaded.Add(tensor);
    }

    /// <summary>The load succeeded: the caller owns the tensors.</summary>
    public void Commit() => _committed = true;

    /// <summary>Ends the scope; disposes every tracked tensor unless <see cref="Commit"/> was called.</summary>
    public void Dispose()
    {
        _reader.EndScope(this);
        if (_committed) return;
        lock (_loaded)
        {
            foreach (var t in _loaded) t.Dispose();
            _loaded.Clear();
        }
    }
}

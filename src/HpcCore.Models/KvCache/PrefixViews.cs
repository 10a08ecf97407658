// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

using HpcCore.Tensors;

/// <summary>
/// Leading-row views (<c>Narrow(0, 0, n)</c>) of one tensor, built once per length and reused, so code that calls
/// ops on a varying number of rows allocates only the first time it sees a length.
/// </summary>
/// <remarks><paramref name="shape"/>, when given, reshapes each prefix (e.g. [rows, H, W] to [1, rows, H, W]).</remarks>
internal sealed class PrefixViews(Tensor whole, Func<Tensor, int, Tensor>? shape = null) : IDisposable
{
    private readonly Dictionary<int, Tensor> _views = [];
    private readonly List<Tensor> _owned = [];

    public Tensor Whole { get; } = whole;

    public Tensor this[int rows]
    {
        get
        {
            if (_views.TryGetValue(rows, out var v)) return v;
            var prefix = rows == Whole.Shape[0] ? Whole : Whole.Narrow(0, 0, rows);
            if (prefix != Whole) _owned.Add(prefix);
            if (shape is not null)
            {
                prefix = shape(prefix, rows);
                _owned.Add(prefix);
            }
            return _views[rows] = prefix;
        }
    }

    public void Dispose()
    {
        foreach (var v in _owned) v.Dispose();
        _owned.Clear();
        _views.Clear();
        Whole.Dispose();
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Tensors;

/// <summary>Views of the decoder's workspace for a chunk of <see cref="Rows"/> tokens (built once per row count that recurs).</summary>
internal sealed class LmRows : IDisposable
{
    private readonly List<Tensor> _views = [];

    public LmRows(LmWorkspace w, LmConfig c, int rows)
    {
        Rows = rows;
        Tensor V(Tensor t) { var v = t.Narrow(0, 0, rows); _views.Add(v); return v; }
        Tensor R(Tensor t, params int[] dims) { var v = t.Reshape(dims); _views.Add(v); return v; }
        Ids = V(w.Ids);
        PositionIds = V(w.PositionIds);
        X = V(w.X);
        H = V(w.H);
        Q = V(w.Q);
        K = V(w.K);
        Vv = V(w.V);
        Att = V(w.Att);
        Up = V(w.Up);
        Gate = V(w.Gate);
        Q4 = R(Q, 1, rows, c.Heads, c.HeadDim);
        K4 = R(K, 1, rows, c.KvHeads, c.HeadDim);
        KRows = R(K, rows * c.KvHeads, c.HeadDim);
        VRows = R(Vv, rows * c.KvHeads, c.HeadDim);
        Att4 = R(Att, 1, rows, c.Heads, c.HeadDim);
        RopePositions = R(PositionIds, 1, rows);
        Last = X.Narrow(0, rows - 1, 1);
        _views.Add(Last);
    }

    public int Rows { get; }
    public Tensor Ids { get; }
    public Tensor PositionIds { get; }
    public Tensor X { get; }
    public Tensor H { get; }
    public Tensor Q { get; }
    public Tensor K { get; }
    public Tensor Vv { get; }
    public Tensor Att { get; }
    public Tensor Up { get; }
    public Tensor Gate { get; }
    /// <summary>Queries [1, rows, H, D].</summary>
    public Tensor Q4 { get; }
    /// <summary>Keys [1, rows, Hkv, D].</summary>
    public Tensor K4 { get; }
    /// <summary>Keys [rows x Hkv, D], the cache's append layout.</summary>
    public Tensor KRows { get; }
    /// <summary>Values [rows x Hkv, D].</summary>
    public Tensor VRows { get; }
    /// <summary>Attention output [1, rows, H, D].</summary>
    public Tensor Att4 { get; }
    public Tensor Last { get; }
    /// <summary>Explicit RoPE positions [1, rows] (a view of <see cref="PositionIds"/>).</summary>
    public Tensor RopePositions { get; }

    public void Dispose()
    {
        for (int i = _views.Count - 1; i >= 0; i--) _views[i].Dispose();
    }
}

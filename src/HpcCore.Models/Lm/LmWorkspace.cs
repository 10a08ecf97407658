// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm;

using HpcCore.Devices;
using HpcCore.Tensors;

/// <summary>The decoder's activation buffers for up to <see cref="MaxRows"/> tokens, allocated (and touched) once.</summary>
internal sealed class LmWorkspace : IDisposable
{
    public LmWorkspace(LmConfig c, IBackend backend, int maxRows)
    {
        MaxRows = maxRows;
        Ids = Tensor.Zeros(new Shape(maxRows), DType.I32, backend);
        PositionIds = Tensor.Zeros(new Shape(maxRows), DType.I32, backend);
        X = Tensor.Zeros(new Shape(maxRows, c.Dim), DType.F32, backend);
        H = Tensor.Zeros(new Shape(maxRows, c.Dim), DType.F32, backend);
        Q = Tensor.Zeros(new Shape(maxRows, c.Dim), DType.F32, backend);
        K = Tensor.Zeros(new Shape(maxRows, c.KvDim), DType.F32, backend);
        V = Tensor.Zeros(new Shape(maxRows, c.KvDim), DType.F32, backend);
        Att = Tensor.Zeros(new Shape(maxRows, c.Dim), DType.F32, backend);
        Up = Tensor.Zeros(new Shape(maxRows, c.HiddenDim), DType.F32, backend);
        Gate = Tensor.Zeros(new Shape(maxRows, c.HiddenDim), DType.F32, backend);
        Normed = Tensor.Zeros(new Shape(1, c.Dim), DType.F32, backend);
        Logits = Tensor.Zeros(new Shape(1, c.VocabSize), DType.F32, backend);
        LogitsHost = new float[c.VocabSize];
        PositionIdsHost = new int[maxRows];
    }

    public int MaxRows { get; }
    public Tensor Ids { get; }
    public Tensor PositionIds { get; }
    public Tensor X { get; }
    public Tensor H { get; }
    public Tensor Q { get; }
    public Tensor K { get; }
    public Tensor V { get; }
    public Tensor Att { get; }
    public Tensor Up { get; }
    public Tensor Gate { get; }
    public Tensor Normed { get; }
    public Tensor Logits { get; }
    public float[] LogitsHost { get; }
    public int[] PositionIdsHost { get; }

    public void Dispose()
    {
        foreach (var t in new[] { Ids, PositionIds, X, H, Q, K, V, Att, Up, Gate, Normed, Logits }) t.Dispose();
    }
}

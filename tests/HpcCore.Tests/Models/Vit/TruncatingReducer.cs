// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Models.Vit;

// A test reducer that keeps the first `keep[l]` tokens after block l: exercises the session's reduction plumbing
// (buffer ping-pong, per-layer views, source tracking) against VitReference without any real method.
internal sealed class TruncatingReducer(int[] keep) : IVitTokenReducer
{
    public string Name => "truncate";

    public bool TracksSizes => false;

    public int TokensAfter(int layer, int tokens) => Math.Min(tokens, keep[layer]);

    public VitScoreExports Exports(int layer) => VitScoreExports.ClassRow | VitScoreExports.KeyTotals;

    public int Calls { get; private set; }

    // Runs inside Reduce, on the session's thread (a test holds a call open with it).
    public Action? OnReduce { get; set; }

    public void Reduce(in VitReductionStep step)
    {
        Calls++;
        OnReduce?.Invoke();
        int t = step.Input.Shape[1], k = step.Output.Shape[1], d = step.Input.Shape[2], batch = step.Input.Shape[0];
        var x = step.Input.ToArray<float>();
        var y = new float[batch * k * d];
        for (int b = 0; b < batch; b++)
            Array.Copy(x, b * t * d, y, b * k * d, k * d);
        step.Output.CopyFrom<float>(y);
        if (step.TokenMap is { } map)
        {
            var m = new int[batch * t];
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < t; i++) m[b * t + i] = i < k ? i : -1;
            map.CopyFrom<int>(m);
        }
    }

    /// <summary>Nothing to release: every tensor this reducer makes lives for one call.</summary>
    public void Dispose()
    {
    }
}

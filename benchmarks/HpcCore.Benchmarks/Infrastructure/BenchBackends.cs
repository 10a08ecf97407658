// Copyright (c) HpcCore contributors. Licensed under the MIT license.
using HpcCore.Cpu;
using HpcCore.Devices;

namespace HpcCore.Benchmarks.Infrastructure;

/// <summary>The backends a suite runs on, by name (per-device benchmark names, as candle's cuda_softmax_f32).</summary>
public static class BenchBackends
{
    /// <summary>Backend names for [ParamsSource]: the CPU backend always; GPU backends join here when present.</summary>
    public static IEnumerable<string> Names() => ["cpu"];

    /// <summary>Creates the backend called <paramref name="name"/>.</summary>
    public static IBackend Create(string name) => name switch
    {
        "cpu" => new CpuBackend(),
        _ => throw new ArgumentException($"Unknown benchmark backend '{name}'.", nameof(name)),
    };

    /// <summary>Seeded uniform values in [-1, 1) (the benchmarks do not reference HpcCore.Testing).</summary>
    public static float[] Uniform(int count, int seed)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}

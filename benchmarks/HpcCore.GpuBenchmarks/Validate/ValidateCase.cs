// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Validate;

using HpcCore.Devices;

/// <summary>
/// One GPU-vs-CPU check: <see cref="Run"/> builds the same seeded inputs on the backend it is given, runs the op into
/// NaN- (or int.MinValue-) poisoned destinations and returns the outputs on the host. Float outputs must agree within
/// <see cref="Tolerance"/> (relative L2), index outputs exactly.
/// </summary>
/// <param name="Op">Op name, e.g. <c>attention/causal</c>.</param>
/// <param name="Shape">Shape key.</param>
/// <param name="DType">Operand dtype (f32, f16, i32).</param>
/// <param name="Run">Runs the op on a backend and returns its named outputs.</param>
public sealed record ValidateCase(string Op, string Shape, string DType, Func<IBackend, CaseOutput[]> Run)
{
    /// <summary>Relative L2 limit of float outputs (gpu-runs.md: fp32 far under 1e-3, fp16 operands up to 1e-2).</summary>
    public double Tolerance => DType == "f16" ? 1e-2 : 1e-3;
}

/// <summary>One named output on the host: floats (compared within tolerance) or ints (compared exactly).</summary>
/// <param name="Name">Output name.</param>
/// <param name="Floats">Float values, or null.</param>
/// <param name="Ints">Index values, or null.</param>
public sealed record CaseOutput(string Name, float[]? Floats, int[]? Ints);

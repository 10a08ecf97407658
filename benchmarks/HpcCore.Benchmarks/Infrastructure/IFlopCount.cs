// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Benchmarks.Infrastructure;

/// <summary>
/// A benchmark class that knows its floating-point work per invocation. <see cref="Flops"/> may depend only on
/// [Params] members: the column sets them on a fresh instance without running [GlobalSetup].
/// </summary>
public interface IFlopCount
{
    /// <summary>FLOPs one invocation of <paramref name="method"/> performs (ggml's op_flops convention: an FMA is 2).</summary>
    double Flops(string method);
}

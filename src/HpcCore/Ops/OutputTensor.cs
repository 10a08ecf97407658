// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Ops;

using HpcCore.Tensors;

/// <summary>The allocating overloads' shared step: write into a fresh result, and free it if the op rejects the call.</summary>
internal static class OutputTensor
{
    /// <summary>
    /// Runs <paramref name="write"/> into <paramref name="result"/> and returns it; if the op throws (bad arguments),
    /// the result is disposed so that a rejected call leaks nothing. <paramref name="state"/> lets callers pass
    /// their inputs to a static lambda instead of allocating a closure.
    /// </summary>
    public static Tensor Fill<TState>(Tensor result, TState state, Action<Tensor, TState> write)
    {
        try
        {
            write(result, state);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }
}

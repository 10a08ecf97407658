// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cpu;

/// <summary>How <see cref="CpuBackend.BeginWork"/> runs a unit of work (a forward pass, a decode step).</summary>
public enum WorkSplitting
{
    /// <summary>
    /// Times units of each size both ways and runs each on whichever was faster lately, trying the other now and then
    /// (<see cref="SplitChooser"/>). The default.
    /// </summary>
    Adaptive,

    /// <summary>Every kernel may use the worker pool (each still keeps small calls on the calling thread by its own threshold).</summary>
    Pooled,

    /// <summary>Every unit runs on the calling thread alone.</summary>
    Serial,
}

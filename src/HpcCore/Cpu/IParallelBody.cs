// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cpu;

/// <summary>One unit of parallel work, as a struct so that dispatching it allocates nothing.</summary>
public interface IParallelBody
{
    /// <summary>Runs work item <paramref name="index"/>. Items may run in any order, on any worker.</summary>
    void Invoke(int index);
}

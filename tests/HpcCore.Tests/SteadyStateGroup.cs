// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Allocation checks read the calling thread's byte counter. Run beside other tests, they saw the runtime's work for
// those tests land inside their windows (tier-up and on-stack replacement delayed by the others' steady JIT
// activity, lock hand-offs with their worker pools): a full CI run once failed with 248-byte quanta in every window.
namespace HpcCore.Tests;

using Xunit;

/// <summary>Test classes that assert steady-state allocation run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SteadyStateGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "SteadyState";
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Backends;

using HpcCore.Cpu;
using Xunit;

/// <summary>One CPU backend shared by a test collection.</summary>
public sealed class CpuBackendFixture : IDisposable
{
    public CpuBackend Backend { get; } = new();

    public void Dispose() => Backend.Dispose();
}

[CollectionDefinition(Name)]
public sealed class CpuBackendGroup : ICollectionFixture<CpuBackendFixture>
{
    public const string Name = "cpu-backend";
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using HpcCore.Cpu;
using HpcCore.Devices;

/// <summary>
/// The process-wide CPU backend every tensor of the C ABI lives on, created on first use. The CPU backend is chosen
/// explicitly (not HpcRuntime.CreateDefault): ILGPU cannot run under NativeAOT, so there is nothing else to pick.
/// </summary>
internal static class NativeRuntime
{
    private static readonly Lazy<CpuBackend> Instance = new(() => new CpuBackend(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The shared backend.</summary>
    public static IBackend Backend => Instance.Value;
}

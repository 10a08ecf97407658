// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The one process-wide ILGPU context, created lazily, plus the native-library fallback it needs on driver-only boxes.
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace HpcCore.Gpu;

/// <summary>
/// Owns the process-wide ILGPU <see cref="Context"/>: CUDA devices, every OpenCL device (also those ILGPU cannot open,
/// so that <see cref="OpenCLSupport"/> can say why) and one CPU emulator device with 32-thread warps
/// (<see cref="EmulatorDevice"/>). Creating it never throws on a machine without CUDA or OpenCL:
/// ILGPU then simply lists no such devices (and if even that fails, a CPU-only context is used).
/// </summary>
internal static class IlgpuRuntime
{
    /// <summary>Emulator geometry: 32-thread warps like NVIDIA, 8 warps per group at most, one multiprocessor.</summary>
    public const int EmulatorWarpSize = 32;

    private static readonly Lazy<Context> LazyContext = new(CreateContext, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The CPU emulator device registered in <see cref="Context"/>.</summary>
    public static CPUDevice EmulatorDevice { get; } = new(EmulatorWarpSize, 8, 1);

    /// <summary>The shared context (created on first use).</summary>
    public static Context Context => LazyContext.Value;

    private static Context CreateContext()
    {
        NativeLibraryFallback.Install();
        OpenCLRegistration.Apply();
        try
        {
            return Context.Create(b => b.Cuda().OpenCL(static _ => true).CPU(EmulatorDevice).EnableAlgorithms().Optimize(OptimizationLevel.O2));
        }
#pragma warning disable CA1031 // A broken GPU driver must not take the CPU path down with it.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Context.Create(b => b.CPU(EmulatorDevice).EnableAlgorithms().Optimize(OptimizationLevel.O2));
        }
    }
}

/// <summary>Maps ILGPU's native library names to the versioned names a driver-only install has.</summary>
/// <remarks>Free of ILGPU types, so the module initializer can install it without loading ILGPU.</remarks>
internal static class NativeLibraryFallback
{
    private static int _installed;

    /// <summary>
    /// ILGPU P/Invokes "cuda" and "OpenCL"; .NET probes libcuda.so / libOpenCL.so but never the ".so.1" names that a
    /// driver-only install is guaranteed to have. This fallback runs only when the default probe failed (ilgpu.md
    /// Appendix B). SetDllImportResolver is not used because ILGPU installs its own under WSL and a second one throws.
    /// </summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) != 0) return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += static (_, name) =>
        {
            string? so = name switch
            {
                "cuda" => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1",
                "OpenCL" => OperatingSystem.IsWindows() ? "OpenCL.dll" : "libOpenCL.so.1",
                _ => null,
            };
            return so is not null && NativeLibrary.TryLoad(so, out var handle) ? handle : IntPtr.Zero;
        };
    }
}

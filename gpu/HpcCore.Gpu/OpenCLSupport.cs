// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Which OpenCL devices ILGPU 1.5.3 can drive, and why not when it cannot. ILGPU's own `.OpenCL()` filter hides a
// device without the generic address space silently; the context here lists every device (IlgpuRuntime) so that the
// device choice can name the reason (docs/OPENCL.md).
using ILGPU.Runtime.OpenCL;

namespace HpcCore.Gpu;

/// <summary>The requirements HpcCore's kernels place on an OpenCL device.</summary>
public static class OpenCLSupport
{
    /// <summary>Why ILGPU cannot open <paramref name="device"/>, or null when it can.</summary>
    public static string? WhyUnusable(CLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        // ILGPU's OpenCL code generator emits generic (unqualified) pointers: it needs OpenCL C 2.0, or 3.0 with the
        // __opencl_c_generic_address_space feature. pocl 3.1 (Debian 12) and oclgrind report OpenCL C 1.2 only.
        if (!device.Capabilities.GenericAddressSpace)
            return $"its OpenCL C {device.CVersion} lacks the generic address space that ILGPU's OpenCL backend requires " +
                   "(OpenCL C 2.0, or 3.0 with __opencl_c_generic_address_space); pocl 6 has it: ./build.sh setup-opencl";
        return null;
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Makes the pocl that `./build.sh setup-opencl` builds (into a cache folder, registered nowhere system-wide) visible
// to this process only. The ICD loader (ocl-icd) reads OCL_ICD_VENDORS from the native environment when OpenCL is
// first used, so it is set with libc's setenv before the ILGPU context exists (.NET's SetEnvironmentVariable does not
// reach the native environment on Unix). It is set only where it changes nothing else: OCL_ICD_VENDORS unset and no
// system-wide vendor (/etc/OpenCL/vendors/*.icd), which the variable would otherwise hide. It also pins pocl to one
// compute unit (POCL_CPU_MAX_CU_COUNT=1, unless set): see Apply.
using System.Runtime.InteropServices;

namespace HpcCore.Gpu;

/// <summary>Registers the setup-opencl pocl for this process when nothing else provides OpenCL.</summary>
internal static partial class OpenCLRegistration
{
    /// <summary>The vendors folder setup-opencl writes: $HPCCORE_OPENCL_HOME, else the user cache's hpccore/pocl-6.0.</summary>
    public static string VendorsFolder()
    {
        string? home = Environment.GetEnvironmentVariable("HPCCORE_OPENCL_HOME");
        if (string.IsNullOrEmpty(home))
        {
            string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cache)) cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            home = Path.Combine(cache, "hpccore", "pocl-6.0");
        }
        return Path.Combine(home, "etc", "OpenCL", "vendors");
    }

    /// <summary>
    /// Pins pocl to one compute unit (unless POCL_CPU_MAX_CU_COUNT is set), and sets OCL_ICD_VENDORS to the
    /// setup-opencl pocl when that is the only OpenCL here; true when it registered it.
    /// </summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux()) return false;
        // pocl 6.0 running work-groups on several threads corrupts results of some ILGPU kernels (the tiled GEMM lost
        // whole 32 x 32 tiles in most runs; exact with one thread; docs/OPENCL.md): correctness over speed on a
        // runtime that is a test vehicle here, not a target.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CPU_MAX_CU_COUNT"))) SetEnv("POCL_CPU_MAX_CU_COUNT", "1", 1);
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OCL_ICD_VENDORS"))) return false;
        string vendors = VendorsFolder();
        if (!File.Exists(Path.Combine(vendors, "pocl.icd"))) return false;
        if (Directory.Exists("/etc/OpenCL/vendors") && Directory.EnumerateFiles("/etc/OpenCL/vendors", "*.icd").Any()) return false;
        return SetEnv("OCL_ICD_VENDORS", vendors, 1) == 0;
    }

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks ptx DIR`: compiles every kernel of HpcCore.Gpu's KernelCatalog offline with ILGPU's PTX
// backend for SM_90 / ISA 8.8 (no GPU needed), writes DIR/<name>.ptx ('/' becomes '_') and prints one JSON line per
// kernel with what the PTX text shows: static shared bytes, local (stack/spill) bytes, instruction count and the key
// instructions. Register counts and spills of the final SASS need ptxas (tools/gpu/ptx_report.py runs it where the
// CUDA toolkit is, i.e. on the GPU machine). KernelCatalog is internal, so it is read by reflection.
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace HpcCore.GpuBenchmarks.Ops;

using HpcCore.Gpu;

/// <summary>Writes the PTX of every kernel.</summary>
public static partial class PtxDump
{
    /// <summary>Every kernel name and method, from HpcCore.Gpu's internal KernelCatalog.</summary>
    public static IReadOnlyDictionary<string, MethodInfo> Kernels()
    {
        var catalog = typeof(IlgpuBackend).Assembly.GetType("HpcCore.Gpu.Kernels.KernelCatalog", throwOnError: true)!;
        var all = catalog.GetProperty("All", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;
        return (IReadOnlyDictionary<string, MethodInfo>)all.GetValue(null)!;
    }

    /// <summary>Runs with <paramref name="args"/>: the output folder (default ptx).</summary>
    /// <returns>0, or 1 when a kernel fails to compile.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        string dir = args.Length > 0 ? args[0] : "ptx";
        Directory.CreateDirectory(dir);
        using var context = Context.Create(b => b.EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var ptxBackend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_88, null);
        int rc = 0;
        foreach (var (name, method) in Kernels())
        {
            string ptx;
            try
            {
                var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
                ptx = ((PTXCompiledKernel)ptxBackend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"ptx: {name} failed: {e}");
                rc = 1;
                continue;
            }
            string file = Path.Combine(dir, name.Replace('/', '_') + ".ptx");
            File.WriteAllText(file, ptx);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"ptx\",\"kernel\":\"{name}\",\"file\":\"{Path.GetFileName(file)}\",\"bytes\":{ptx.Length},\"instructions\":{Instructions(ptx)}," +
                $"\"static_shared_bytes\":{Declared(ptx, "shared")},\"local_bytes\":{Declared(ptx, "local")},\"dynamic_shared\":{(ptx.Contains(".extern .shared", StringComparison.Ordinal) ? "true" : "false")}," +
                $"\"shfl\":{Count(ptx, "shfl.sync")},\"bar_sync\":{Count(ptx, "bar.sync")},\"atomics\":{Atomic().Count(ptx)},\"ex2_approx\":{Count(ptx, "ex2.approx")},\"f16_cvt\":{Count(ptx, ".f16")}}}"));
        }
        return rc;
    }

    /// <summary>Instruction lines: those ending in ';' that are not declarations or directives.</summary>
    private static int Instructions(string ptx) =>
        ptx.Split('\n').Count(l => l.TrimEnd().EndsWith(';') && l.TrimStart() is var t && t.Length > 0 && t[0] != '.' && !t.StartsWith("//", StringComparison.Ordinal));

    /// <summary>Bytes of sized <c>.shared</c>/<c>.local</c> declarations (<c>.align A .b8 name[N]</c>).</summary>
    private static long Declared(string ptx, string space)
    {
        long total = 0;
        foreach (Match m in ArrayDecl().Matches(ptx))
            if (m.Groups[1].Value == space) total += long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * (m.Groups[2].Value is "b16" ? 2 : m.Groups[2].Value is "b32" or "f32" or "u32" or "s32" ? 4 : m.Groups[2].Value is "b64" or "u64" or "f64" ? 8 : 1);
        return total;
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Global or shared atomics and reductions (<c>atom.</c>, <c>red.</c>; not the "red." inside "shared.").</summary>
    [GeneratedRegex(@"\b(?:atom|red)\.")]
    private static partial Regex Atomic();

    [GeneratedRegex(@"\.(shared|local)\s+(?:\.align\s+\d+\s+)?\.(\w+)\s+[\w$]+\[(\d+)\]")]
    private static partial Regex ArrayDecl();
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `HpcCore.GpuBenchmarks validate [--smoke | --tiny | --opencl] [--cpu-only] [--only TEXT]`: every GPU op against the SIMD CPU backend on the same
// seeded inputs (issue #8). One JSON line per (op, shape, dtype, output): max abs error, max error over max |cpu|,
// relative L2, mismatching elements, the limit and ok. Float outputs pass at relative L2 <= 1e-3 (f32) or 1e-2 (f16)
// with NaN only where the CPU has NaN; index and bit-exact outputs (top-k, argsort, best-match argmax, gathers,
// compaction, ToMe plans, conversions) must be identical. Exit code 1 when anything fails, 3 without a CUDA device.
// --smoke: the tiny shapes on ILGPU's CPU emulator; --opencl: the medium shapes (197, 577, 2,880 tokens) on the first
// usable OpenCL device (pocl on the host CPU in CI); --tiny: the same tiny shapes on the CUDA device (quick enough to
// run under compute-sanitizer); --cpu-only: only the CPU side of every case at the chosen shapes (no GPU needed), to
// check on the build machine that the full-size cases are well formed and to see what the CPU side costs.
using System.Diagnostics;
using System.Globalization;

namespace HpcCore.GpuBenchmarks.Validate;

using HpcCore.Cpu;
using HpcCore.Devices;
using HpcCore.Gpu;

/// <summary>Runs the GPU-vs-CPU validation.</summary>
public static class GpuValidate
{
    /// <summary>Runs with <paramref name="args"/> (after the <c>validate</c> word), writing JSON lines to <paramref name="output"/>.</summary>
    /// <returns>0 when every check passed, 1 when one failed, 2 for bad arguments, 3 without the device asked for.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool smoke = false, tiny = false, openCL = false, cpuOnly = false;
        string? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--smoke") smoke = true;
            else if (args[i] == "--tiny") tiny = true;
            else if (args[i] == "--opencl") openCL = true;
            else if (args[i] == "--cpu-only") cpuOnly = true;
            else if (args[i] == "--only" && i + 1 < args.Length) only = args[++i];
            else
            {
                Console.Error.WriteLine($"usage: HpcCore.GpuBenchmarks validate [--smoke | --tiny | --opencl] [--cpu-only] [--only TEXT]; bad argument '{args[i]}'");
                return 2;
            }
        }
        var scale = smoke || tiny ? ValidateScale.Small : openCL ? ValidateScale.Medium : ValidateScale.Full;
        if (cpuOnly) return CpuOnly(scale, only, output);
        using var gpu = smoke ? IlgpuBackendProvider.CreateEmulator() : IlgpuBackendProvider.CreateFirst(openCL ? DeviceKind.OpenCL : DeviceKind.Cuda);
        if (gpu is null)
        {
            Console.Error.WriteLine($"HpcCore.GpuBenchmarks validate: no {(openCL ? "usable OpenCL" : "CUDA")} device found. Use --smoke for ILGPU's CPU emulator.");
            return 3;
        }
        return Run(gpu, scale, only, output);
    }

    /// <summary>
    /// Every case at <paramref name="scale"/> whose "op shape dtype" contains <paramref name="only"/> (all when null),
    /// on <paramref name="gpu"/> (not disposed here) against a CPU backend.
    /// </summary>
    /// <returns>0 when every check passed, 1 when one failed.</returns>
    public static int Run(IlgpuBackend gpu, ValidateScale scale, string? only, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(output);
        using var cpu = new CpuBackend();
        Console.Error.WriteLine($"validate: {gpu.Device.Name} vs CPU backend ({Environment.ProcessorCount} threads)");
        int failed = 0, total = 0;
        foreach (var c in OpCases.All(scale).Concat(AttentionCases.All(scale)))
        {
            string id = $"{c.Op} {c.Shape} {c.DType}";
            if (only is not null && !id.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            total++;
            failed += Check(c, cpu, gpu, output) ? 0 : 1;
        }
        Console.Error.WriteLine($"validate: {total - failed} of {total} cases passed");
        return failed == 0 ? 0 : 1;
    }

    private static int CpuOnly(ValidateScale scale, string? only, TextWriter output)
    {
        using var cpu = new CpuBackend();
        int failed = 0;
        foreach (var c in OpCases.All(scale).Concat(AttentionCases.All(scale)))
        {
            if (only is not null && !$"{c.Op} {c.Shape} {c.DType}".Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var sw = Stopwatch.StartNew();
            string status = "ok";
            try
            {
                c.Run(cpu);
            }
            catch (Exception e) when (c.DType == "f16" && e is NotSupportedException or ArgumentException)
            {
                status = "not_supported";
            }
            catch (Exception e)
            {
                status = "error";
                failed++;
                Console.Error.WriteLine($"FAIL (CPU side) {c.Op} {c.Shape} {c.DType}: {e.Message}");
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"validate-cpu\",\"op\":\"{c.Op}\",\"shape\":\"{c.Shape}\",\"dtype\":\"{c.DType}\",\"status\":\"{status}\",\"cpu_ms\":{Num(sw.Elapsed.TotalMilliseconds)}}}"));
        }
        return failed == 0 ? 0 : 1;
    }

    private static bool Check(ValidateCase c, CpuBackend cpu, IlgpuBackend gpu, TextWriter output)
    {
        CaseOutput[] expected;
        try
        {
            expected = c.Run(cpu);
        }
        catch (Exception e) when (c.DType == "f16" && e is NotSupportedException or ArgumentException)
        {
            // An F32-only op (GEMM, norms, softmax) refuses F16 operands at its front door on every backend.
            output.WriteLine(Line(c, "-", "not_supported", $"CPU: {e.Message}"));
            return true;
        }
        catch (Exception e)
        {
            output.WriteLine(Line(c, "-", "error", "CPU: " + e.GetType().Name + ": " + e.Message));
            Console.Error.WriteLine($"FAIL (CPU side) {c.Op} {c.Shape} {c.DType}: {e}");
            return false;
        }
        CaseOutput[] ours;
        var sw = Stopwatch.StartNew();
        try
        {
            ours = c.Run(gpu);
        }
        catch (Exception e) when (c.DType == "f16" && e is NotSupportedException or ArgumentException)
        {
            output.WriteLine(Line(c, "-", "not_supported", $"GPU: {e.Message}"));
            return true;
        }
        catch (Exception e)
        {
            output.WriteLine(Line(c, "-", "error", e.GetType().Name + ": " + e.Message));
            Console.Error.WriteLine($"FAIL {c.Op} {c.Shape} {c.DType}: {e}");
            return false;
        }
        double ms = sw.Elapsed.TotalMilliseconds;
        bool all = true;
        for (int i = 0; i < expected.Length; i++)
        {
            var (e, o) = (expected[i], ours[i]);
            bool exact = e.Ints is not null;
            var err = exact ? Errors.Of(o.Ints!, e.Ints!) : Errors.Of(o.Floats!, e.Floats!);
            bool ok = exact ? err.Mismatches == 0 : err.Mismatches == 0 && err.RelL2 <= c.Tolerance;
            all &= ok;
            if (!ok) Console.Error.WriteLine($"FAIL {c.Op} {c.Shape} {c.DType} {e.Name}: {err}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"validate\",\"device\":\"{gpu.Device.Name}\",\"op\":\"{c.Op}\",\"shape\":\"{c.Shape}\",\"dtype\":\"{c.DType}\",\"output\":\"{e.Name}\"," +
                $"\"exact\":{(exact ? "true" : "false")},\"max_abs\":{Num(err.MaxAbs)},\"max_rel\":{Num(err.MaxRel)},\"rel_l2\":{Num(err.RelL2)}," +
                $"\"mismatches\":{err.Mismatches},\"tol\":{(exact ? "0" : Num(c.Tolerance))},\"gpu_ms\":{Num(ms)},\"status\":\"{(ok ? "pass" : "fail")}\",\"ok\":{(ok ? "true" : "false")}}}"));
        }
        return all;
    }

    private static string Line(ValidateCase c, string output, string status, string note) =>
        $"{{\"bench\":\"validate\",\"op\":\"{c.Op}\",\"shape\":\"{c.Shape}\",\"dtype\":\"{c.DType}\",\"output\":\"{output}\",\"status\":\"{status}\"," +
        $"\"ok\":{(status == "error" ? "false" : "true")},\"note\":\"{Escape(note)}\"}}";

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Num(double x) => double.IsFinite(x) ? x.ToString("G4", CultureInfo.InvariantCulture) : "null";
}

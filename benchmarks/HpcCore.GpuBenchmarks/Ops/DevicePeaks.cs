// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.GpuBenchmarks.Ops;

/// <summary>
/// Assumed peak rates of the device, by name, from NVIDIA's datasheets (H100 Tensor Core GPU datasheet, 2023: SXM5
/// FP32 67 TFLOP/s, FP16/BF16 tensor 989 TFLOP/s dense, HBM3 3.35 TB/s; PCIe 51 / 756 / 2.0; NVL 60 / 835 / 3.9.
/// H200 datasheet, 2024: compute as H100 SXM, HBM3e 4.8 TB/s). Our kernels are SIMT (no tensor cores) and accumulate
/// in F32 also for F16 operands, so their compute floor uses the FP32 rate; the tensor rate is what PyTorch's F16 uses.
/// </summary>
/// <param name="Name">Which datasheet row matched.</param>
/// <param name="Fp32Tflops">FP32 SIMT peak, TFLOP/s.</param>
/// <param name="Fp16TensorTflops">FP16 tensor-core dense peak, TFLOP/s.</param>
/// <param name="HbmTBps">Memory bandwidth, TB/s.</param>
public sealed record DevicePeaks(string Name, double Fp32Tflops, double Fp16TensorTflops, double HbmTBps)
{
    /// <summary>The row for <paramref name="deviceName"/>, or null (emulator, unknown GPU: no fractions printed).</summary>
    public static DevicePeaks? For(string deviceName)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        if (deviceName.Contains("H200", StringComparison.OrdinalIgnoreCase)) return new("H200 SXM (datasheet)", 67, 989, 4.8);
        if (!deviceName.Contains("H100", StringComparison.OrdinalIgnoreCase)) return null;
        if (deviceName.Contains("PCIe", StringComparison.OrdinalIgnoreCase)) return new("H100 PCIe (datasheet)", 51, 756, 2.0);
        if (deviceName.Contains("NVL", StringComparison.OrdinalIgnoreCase)) return new("H100 NVL (datasheet)", 60, 835, 3.9);
        return new("H100 SXM5 (datasheet)", 67, 989, 3.35);
    }

    /// <summary>The floor in seconds for <paramref name="flops"/> at the FP32 rate and <paramref name="bytes"/> at HBM bandwidth, and which bounds it.</summary>
    public (double Seconds, string Bound) Floor(double flops, double bytes)
    {
        double compute = flops / (Fp32Tflops * 1e12), memory = bytes / (HbmTBps * 1e12);
        return compute >= memory ? (compute, "compute") : (memory, "memory");
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Mapping between safetensors dtype strings ("F32", "BOOL", ...) and HpcCore's DType.
namespace HpcCore.Models.Weights;

using HpcCore.Tensors;

/// <summary>Names of the safetensors dtypes, and which of them HpcCore can hold.</summary>
internal static class SafetensorsDTypes
{
    /// <summary>The supported names, in the order listed in error messages.</summary>
    public const string SupportedList = "F32, F16, BF16, I32, I64, U8, BOOL";

    /// <summary>The safetensors spelling of <paramref name="dtype"/>.</summary>
    public static string ToName(DType dtype) => dtype switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        DType.I32 => "I32",
        DType.I64 => "I64",
        DType.U8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Safetensors: unknown HpcCore dtype."),
    };

    /// <summary>Parses a supported dtype name (case-sensitive, as in the reference implementation).</summary>
    public static bool TryParse(string name, out DType dtype)
    {
        switch (name)
        {
            case "F32": dtype = DType.F32; return true;
            case "F16": dtype = DType.F16; return true;
            case "BF16": dtype = DType.BF16; return true;
            case "I32": dtype = DType.I32; return true;
            case "I64": dtype = DType.I64; return true;
            case "U8": dtype = DType.U8; return true;
            case "BOOL": dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>
    /// True for dtypes the format defines but HpcCore has no element type for, so that the error can say
    /// "unsupported" rather than "unknown" (the list follows the reference implementation's Dtype enum).
    /// </summary>
    public static bool IsKnownUnsupported(string name) => name is
        "F64" or "I8" or "I16" or "U16" or "U32" or "U64" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" or "F6_E2M3"
        or "F6_E3M2" or "F4" or "C64";
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using HpcCore.Ops;

/// <summary>Attention forward (the fused CPU kernel) with its options.</summary>
internal static unsafe class AttentionExports
{
    /// <summary>hpc_attention_default_params.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_attention_default_params")]
    public static AttentionParams DefaultParams() => AttentionParams.Default;

    /// <summary>hpc_attention_forward: out = attention(q [B,Tq,H,D], k, v [B,Tk,Hkv,D]); params NULL means defaults.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_attention_forward")]
    public static int Forward(nint q, nint k, nint v, AttentionParams* parameters, nint* result)
    {
        const string Fn = "hpc_attention_forward";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            var p = parameters == null ? AttentionParams.Default : *parameters;
            if (p.Reserved != 0)
                throw new NativeException(HpcStatus.InvalidArgument, $"{Fn}: params->reserved is {p.Reserved}; it must be 0.");
            if (p.WindowLeft < -1 || p.WindowRight < -1)
                throw new NativeException(HpcStatus.OutOfRange,
                    $"{Fn}: window_left = {p.WindowLeft}, window_right = {p.WindowRight}; each must be >= 0, or -1 for unbounded.");
            var options = new AttentionOptions(
                Scale: p.Scale,
                Causal: p.Causal != 0,
                WindowLeft: p.WindowLeft < 0 ? null : p.WindowLeft,
                WindowRight: p.WindowRight < 0 ? null : p.WindowRight,
                SoftCap: p.SoftCap,
                KeyBias: Arg.OptionalTensor(Fn, "params->key_bias", p.KeyBias),
                KeyPaddingMask: Arg.OptionalTensor(Fn, "params->key_padding_mask", p.KeyPaddingMask),
                KeyLengths: Arg.OptionalTensor(Fn, "params->key_lengths", p.KeyLengths),
                KeyTotals: Arg.OptionalTensor(Fn, "params->key_totals", p.KeyTotals));
            var output = Attention.Forward(
                Arg.Tensor(Fn, "q", q), Arg.Tensor(Fn, "k", k), Arg.Tensor(Fn, "v", v), options);
            Arg.Publish(result, output);
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

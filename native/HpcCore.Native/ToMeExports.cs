// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>ToMe (Bolya et al., ICLR 2023): key metric, plan (bipartite soft matching), size-weighted merge, unmerge.</summary>
internal static unsafe class ToMeExports
{
    /// <summary>hpc_tome_default_params: nothing protected, ToMe's own output order (all zero).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_default_params")]
    public static ToMeParams DefaultParams() => default;

    /// <summary>hpc_tome_key_metric: keys F32 [B, T, Hkv, D] averaged over kv heads, F32 [B, T, D].</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_key_metric")]
    public static int KeyMetric(nint keys, nint* result)
    {
        const string Fn = "hpc_tome_key_metric";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            Arg.Publish(result, ToMe.KeyMetric(Arg.Tensor(Fn, "keys", keys)));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_tome_plan: plans r merges on metric F32 [B, N, d]; params NULL means defaults.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_plan")]
    public static int Plan(nint metric, int r, ToMeParams* parameters, nint* result)
    {
        const string Fn = "hpc_tome_plan";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            var p = parameters == null ? default : *parameters;
            var options = new ToMeOptions(p.ClassToken != 0, p.DistillationToken != 0, p.PreserveOrder != 0);
            Arg.Publish(result, ToMe.Plan(Arg.Tensor(Fn, "metric", metric), r, options));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_merge_plan_info: the applied r (after clamping), input and output token counts (each may be NULL).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_merge_plan_info")]
    public static int Info(nint plan, int* r, int* inputTokens, int* outputTokens)
    {
        const string Fn = "hpc_merge_plan_info";
        try
        {
            var p = Arg.Plan(Fn, "plan", plan);
            if (r != null) *r = p.R;
            if (inputTokens != null) *inputTokens = p.InputTokens;
            if (outputTokens != null) *outputTokens = p.OutputTokens;
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_merge_plan_free: frees a plan; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_merge_plan_free")]
    public static int Free(nint plan) => Arg.Free<MergePlan>(plan, "hpc_merge_plan_free", "plan", "merge plan");

    /// <summary>
    /// hpc_tome_merge: size-weighted average merge of x F32 [B, N, C] with sizes F32 [B, N] (NULL: all ones) into
    /// merged F32 [B, N - r, C] and (optional) merged sizes F32 [B, N - r].
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_merge")]
    public static int Merge(nint plan, nint x, nint size, nint* merged, nint* mergedSize)
    {
        const string Fn = "hpc_tome_merge";
        try
        {
            Arg.NotNull(Fn, "merged", merged);
            *merged = 0;
            if (mergedSize != null) *mergedSize = 0;
            var (tokens, sizes) = ToMe.Merge(Arg.Plan(Fn, "plan", plan), Arg.Tensor(Fn, "x", x), Arg.OptionalTensor(Fn, "size", size));
            Arg.Publish(merged, tokens);
            if (mergedSize != null) Arg.Publish(mergedSize, sizes);
            else sizes.Dispose();
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_tome_unmerge: copies each merged token back to every input position it absorbed, F32 [B, N, C].</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_unmerge")]
    public static int Unmerge(nint plan, nint merged, nint* result)
    {
        const string Fn = "hpc_tome_unmerge";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            Arg.Publish(result, ToMe.Unmerge(Arg.Plan(Fn, "plan", plan), Arg.Tensor(Fn, "merged", merged)));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_tome_log_size: log(size), the key bias of proportional attention (hpc_attention_params.key_bias).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_tome_log_size")]
    public static int LogSize(nint size, nint* result)
    {
        const string Fn = "hpc_tome_log_size";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            Tensor logSize = ToMe.LogSize(Arg.Tensor(Fn, "size", size));
            Arg.Publish(result, logSize);
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

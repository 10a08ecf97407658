// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>Top-k selection and top-k token pruning.</summary>
internal static unsafe class PruningExports
{
    /// <summary>hpc_prune_default_params: keep_order = 1.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_prune_default_params")]
    public static PruneParams DefaultParams() => new() { KeepOrder = 1 };

    /// <summary>hpc_topk: values F32 [..., k] (optional) and indices I32 [..., k] of the k largest scores per row.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_topk")]
    public static int Select(nint scores, int k, nint* values, nint* indices)
    {
        const string Fn = "hpc_topk";
        try
        {
            Arg.NotNull(Fn, "indices", indices);
            *indices = 0;
            if (values != null) *values = 0;
            var s = Arg.Tensor(Fn, "scores", scores);
            if (values == null)
            {
                Arg.Publish(indices, TopK.Indices(s, k));
                return NativeError.Ok();
            }
            var (v, i) = TopK.Select(s, k);
            Arg.Publish(values, v);
            Arg.Publish(indices, i);
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>
    /// hpc_prune_topk: keeps the k tokens of x F32 [B, N, C] with the highest scores F32 [B, N]: kept F32 [B, k, C] and
    /// (optional) their indices I32 [B, k]. keep_order sorts the indices ascending before gathering, because top-k
    /// returns them by score and token order carries position for models that read it (methods.md K5).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_prune_topk")]
    public static int Prune(nint x, nint scores, int k, PruneParams* parameters, nint* kept, nint* keptIndices)
    {
        const string Fn = "hpc_prune_topk";
        try
        {
            Arg.NotNull(Fn, "kept", kept);
            *kept = 0;
            if (keptIndices != null) *keptIndices = 0;
            var p = parameters == null ? new PruneParams { KeepOrder = 1 } : *parameters;
            var tokens = Arg.Tensor(Fn, "x", x);
            var s = Arg.Tensor(Fn, "scores", scores);
            Tensor? order = null;
            var top = TopK.Indices(s, k);
            try
            {
                if (p.KeepOrder != 0) Selection.SortAscending(top, top);
                order = Gather.Rows(tokens, top);
                Arg.Publish(kept, order);
                order = null;
                if (keptIndices != null)
                {
                    Arg.Publish(keptIndices, top);
                    top = null;
                }
            }
            finally
            {
                order?.Dispose();
                top?.Dispose();
            }
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using HpcCore.Tensors;

/// <summary>
/// KV-cache policies (StreamingLLM, H2O, SnapKV, TokenSelect, full, Recycled, EMS) on caller-provided K/V: create a
/// policy from its parameters, apply it to keys and values [B, T, Hkv, D] (with attention scores or the decode query
/// when the policy needs them), get the kept positions and the compacted K/V; reset the state a policy carries.
/// </summary>
internal static unsafe class KvPolicyExports
{
    /// <summary>hpc_kv_policy_default_params: StreamingLLM, budget 256, sinks 4, recent -1, window 32, kernel 5, local 32, stride 8, ratio 4.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_kv_policy_default_params")]
    public static KvPolicyParams DefaultParams() => KvPolicyParams.Default;

    /// <summary>hpc_kv_policy_create: a policy from its parameters (NULL: the defaults).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_kv_policy_create")]
    public static int Create(KvPolicyParams* parameters, nint* result)
    {
        const string Fn = "hpc_kv_policy_create";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            var p = parameters == null ? KvPolicyParams.Default : *parameters;
            Arg.Publish(result, NativeKvPolicy.Create(p));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_kv_policy_free: frees a policy; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_kv_policy_free")]
    public static int Free(nint policy) => Arg.Free<NativeKvPolicy>(policy, "hpc_kv_policy_free", "policy", "kv policy");

    /// <summary>hpc_kv_policy_reset: forgets the state a policy carries between calls (TokenSelect, Recycled).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_kv_policy_reset")]
    public static int Reset(nint policy)
    {
        const string Fn = "hpc_kv_policy_reset";
        try
        {
            Arg.Handle<NativeKvPolicy>(Fn, "policy", policy, "kv policy").Reset();
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>
    /// hpc_kv_policy_apply: keys, values F32 [B, T, Hkv, D]; scores F32 [B, H, T] (H2O, SnapKV) or [B, 2, H, T] (EMS),
    /// else ignored; query F32 [B, 1, H, D] (TokenSelect, Recycled; else ignored) -> kept_indices I32 [B, Hkv, K]
    /// ascending and, when asked for, kept_keys / kept_values F32 [B, K, Hkv, D].
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_kv_policy_apply")]
    public static int Apply(nint policy, nint keys, nint values, nint scores, nint query, nint* keptIndices, nint* keptKeys, nint* keptValues)
    {
        const string Fn = "hpc_kv_policy_apply";
        try
        {
            Arg.NotNull(Fn, "kept_indices", keptIndices);
            *keptIndices = 0;
            if (keptKeys != null) *keptKeys = 0;
            if (keptValues != null) *keptValues = 0;
            var p = Arg.Handle<NativeKvPolicy>(Fn, "policy", policy, "kv policy");
            var k = Arg.F32(Fn, "keys", keys, 4, "[B, T, Hkv, D]");
            var v = Arg.F32(Fn, "values", values, 4, "[B, T, Hkv, D]");
            int batch = k.Shape[0], tokens = k.Shape[1], kvHeads = k.Shape[2], headDim = k.Shape[3];
            Arg.Require(v.Shape == k.Shape, Fn, $"values {v.Shape} must have the shape of keys {k.Shape} [B, T, Hkv, D].");
            Arg.Require(batch >= 1 && tokens >= 1 && kvHeads >= 1 && headDim >= 1, Fn, $"keys {k.Shape} [B, T, Hkv, D] has an empty dim.");
            int heads = kvHeads;
            float[] s = [], q = [];
            if (p.NeedsScores || p.NeedsTwoScores)
            {
                // EMS takes two score sets, [B, 2, H, T]: the attention totals and the observation window's.
                bool two = p.NeedsTwoScores;
                string layout = two ? "[B, 2, H, T]" : "[B, H, T]", set = two ? $"B={batch}, 2" : $"B={batch}";
                var t = Arg.F32(Fn, "scores", scores, two ? 4 : 3, $"{layout} ({p.Policy.Name} needs attention scores)");
                heads = t.Shape[-2];
                Arg.Require(t.Shape[0] == batch && (!two || t.Shape[1] == 2) && t.Shape[-1] == tokens && heads % kvHeads == 0, Fn,
                    $"scores {t.Shape} must be [{set}, H, T={tokens}] with H a multiple of Hkv={kvHeads} (keys {k.Shape}).");
                s = t.ToArray<float>();
            }
            if (p.NeedsQuery)
            {
                var t = Arg.F32(Fn, "query", query, 4, $"[B, 1, H, D] ({p.Policy.Name} needs the decode query)");
                heads = t.Shape[2];
                Arg.Require(t.Shape[0] == batch && t.Shape[1] == 1 && t.Shape[3] == headDim && heads % kvHeads == 0, Fn,
                    $"query {t.Shape} must be [B={batch}, 1, H, D={headDim}] with H a multiple of Hkv={kvHeads} (keys {k.Shape}).");
                q = t.ToArray<float>();
            }
            var (kept, indices, keptK, keptV) = p.Apply(k.ToArray<float>(), v.ToArray<float>(), s, q, batch, tokens, heads, kvHeads, headDim);
            var backend = NativeRuntime.Backend;
            Tensor? ti = null, tk = null, tv = null;
            try
            {
                ti = Tensor.From<int>(indices, new Shape(batch, kvHeads, kept), backend);
                if (keptKeys != null) tk = Tensor.From<float>(keptK, new Shape(batch, kept, kvHeads, headDim), backend);
                if (keptValues != null) tv = Tensor.From<float>(keptV, new Shape(batch, kept, kvHeads, headDim), backend);
            }
            catch
            {
                ti?.Dispose();
                tk?.Dispose();
                throw;
            }
            Arg.Publish(keptIndices, ti);
            if (tk is not null) Arg.Publish(keptKeys, tk);
            if (tv is not null) Arg.Publish(keptValues, tv);
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

"""hpccore from Python through ctypes, checked against NumPy: attention (GQA, causal), top-k, top-k pruning, the H2O
KV policy (GQA) and the ViT classifier (preprocessing and forward vs a NumPy ViT; logits vs assets/vit/golden.json).

Usage: python3 hpccore_example.py [path/to/libhpccore.so]   (default: artifacts/native/libhpccore.so)
Exit code 0 when every result matches NumPy.
"""
import ctypes as C
import gzip
import json
import os
import sys

import numpy as np

import numpy_vit

HPC_F32, HPC_I32 = 0, 3


class AttentionParams(C.Structure):
    """hpc_attention_params (hpccore.h): same field order."""
    _fields_ = [("scale", C.c_float), ("causal", C.c_int32), ("window_left", C.c_int32),
                ("window_right", C.c_int32), ("soft_cap", C.c_float), ("reserved", C.c_int32),
                ("key_bias", C.c_void_p), ("key_padding_mask", C.c_void_p), ("key_lengths", C.c_void_p),
                ("key_totals", C.c_void_p)]


class PruneParams(C.Structure):
    _fields_ = [("keep_order", C.c_int32)]


class KvPolicyParams(C.Structure):
    """hpc_kv_policy_params (hpccore.h): same field order."""
    _fields_ = [(name, C.c_int32) for name in ("kind", "budget", "sinks", "recent", "window", "kernel", "local", "stride")] + \
        [("ratio", C.c_float), ("pool", C.c_int32), ("reserved", C.c_int32)]


class VitParams(C.Structure):
    """hpc_vit_params (hpccore.h): same field order."""
    _fields_ = [("tome_r", C.c_int32), ("reserved", C.c_int32), ("method", C.c_char_p)]


class VitInfo(C.Structure):
    _fields_ = [(name, C.c_int32) for name in
                ("image_size", "patch_size", "channels", "classes", "dim", "depth", "heads", "tokens")]


HPC_KV_H2O = 1


def load(path):
    lib = C.CDLL(path)
    lib.hpc_last_error.restype = C.c_char_p
    lib.hpc_version.restype = C.c_char_p
    lib.hpc_tensor_create.argtypes = [C.c_int, C.POINTER(C.c_int64), C.c_int32, C.c_void_p, C.c_size_t,
                                      C.POINTER(C.c_void_p)]
    lib.hpc_tensor_free.argtypes = [C.c_void_p]
    lib.hpc_tensor_info.argtypes = [C.c_void_p, C.POINTER(C.c_int), C.POINTER(C.c_int32),
                                    C.POINTER(C.c_int64), C.c_int32]
    lib.hpc_tensor_copy_to.argtypes = [C.c_void_p, C.c_void_p, C.c_size_t]
    lib.hpc_attention_default_params.restype = AttentionParams
    lib.hpc_attention_forward.argtypes = [C.c_void_p] * 3 + [C.POINTER(AttentionParams), C.POINTER(C.c_void_p)]
    lib.hpc_topk.argtypes = [C.c_void_p, C.c_int32, C.POINTER(C.c_void_p), C.POINTER(C.c_void_p)]
    lib.hpc_prune_default_params.restype = PruneParams
    lib.hpc_prune_topk.argtypes = [C.c_void_p, C.c_void_p, C.c_int32, C.POINTER(PruneParams),
                                   C.POINTER(C.c_void_p), C.POINTER(C.c_void_p)]
    lib.hpc_kv_policy_default_params.restype = KvPolicyParams
    lib.hpc_kv_policy_create.argtypes = [C.POINTER(KvPolicyParams), C.POINTER(C.c_void_p)]
    lib.hpc_kv_policy_free.argtypes = [C.c_void_p]
    lib.hpc_kv_policy_apply.argtypes = [C.c_void_p] * 5 + [C.POINTER(C.c_void_p)] * 3
    lib.hpc_vit_default_params.restype = VitParams
    lib.hpc_vit_load.argtypes = [C.c_char_p, C.POINTER(C.c_void_p)]
    lib.hpc_vit_free.argtypes = [C.c_void_p]
    lib.hpc_vit_get_info.argtypes = [C.c_void_p, C.POINTER(VitInfo)]
    lib.hpc_vit_preprocess.argtypes = [C.c_void_p, C.c_void_p, C.c_size_t, C.c_int32, C.c_int32, C.c_int32,
                                       C.POINTER(C.c_void_p)]
    lib.hpc_vit_forward.argtypes = [C.c_void_p, C.c_void_p, C.POINTER(VitParams), C.POINTER(C.c_void_p)]
    return lib


class Lib:
    """Thin checked wrapper: every non-zero status raises with hpc_last_error()."""

    def __init__(self, path):
        self.lib = load(path)

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: status {status}: {self.lib.hpc_last_error().decode()}")

    def tensor(self, array):
        array = np.ascontiguousarray(array)
        dtype = {np.float32: HPC_F32, np.int32: HPC_I32}[array.dtype.type]
        shape = (C.c_int64 * array.ndim)(*array.shape)
        out = C.c_void_p()
        self.check(self.lib.hpc_tensor_create(dtype, shape, array.ndim, array.ctypes.data, array.nbytes,
                                              C.byref(out)), "hpc_tensor_create")
        return out

    def numpy(self, handle):
        dtype, rank, shape = C.c_int(), C.c_int32(), (C.c_int64 * 8)()
        self.check(self.lib.hpc_tensor_info(handle, C.byref(dtype), C.byref(rank), shape, 8), "hpc_tensor_info")
        result = np.empty([shape[i] for i in range(rank.value)], {HPC_F32: np.float32, HPC_I32: np.int32}[dtype.value])
        self.check(self.lib.hpc_tensor_copy_to(handle, result.ctypes.data, result.nbytes), "hpc_tensor_copy_to")
        return result

    def free(self, *handles):
        for h in handles:
            self.check(self.lib.hpc_tensor_free(h), "hpc_tensor_free")


def numpy_attention(q, k, v, causal):
    """q [B, Tq, H, D], k, v [B, Tk, Hkv, D]; query head h reads kv head h // (H // Hkv)."""
    b, tq, h, d = q.shape
    tk, hkv = k.shape[1], k.shape[2]
    k = np.repeat(k.astype(np.float64), h // hkv, axis=2)
    v = np.repeat(v.astype(np.float64), h // hkv, axis=2)
    s = np.einsum("bqhd,bkhd->bhqk", q.astype(np.float64), k) / np.sqrt(d)
    if causal:
        s = np.where(np.arange(tk)[None, :] > np.arange(tq)[:, None] + (tk - tq), -np.inf, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bhqk,bkhd->bqhd", p, v)


def numpy_h2o(keys, values, scores, budget, recent):
    """H2O in NumPy: per kv head, its query heads' scores summed (query head h -> kv head h // (H // Hkv)); the newest
    `recent` tokens plus the (budget - recent) largest sums among the rest (ties to the lower position), ascending."""
    b, t, hkv, _ = keys.shape
    summed = scores.reshape(b, hkv, scores.shape[1] // hkv, t).sum(2)
    idx = np.empty((b, hkv, budget), np.int32)
    for i in range(b):
        for g in range(hkv):
            heavy = np.argsort(-summed[i, g, :t - recent], kind="stable")[:budget - recent]
            idx[i, g] = np.concatenate([np.sort(heavy), np.arange(t - recent, t)])
    gather = idx.transpose(0, 2, 1)[..., None]  # [B, K, Hkv, 1]
    return idx, np.take_along_axis(keys, gather, 1), np.take_along_axis(values, gather, 1)


def kv_example(hpc, rng):
    """H2O with grouped-query heads (H = 8 query heads over Hkv = 2) against NumPy; returns the failure count."""
    b, t, h, hkv, d, budget = 2, 97, 8, 2, 16, 24
    keys = rng.uniform(-1, 1, (b, t, hkv, d)).astype(np.float32)
    values = rng.uniform(-1, 1, (b, t, hkv, d)).astype(np.float32)
    scores = (np.round(rng.uniform(0, 1, (b, h, t)) * 4) / 4).astype(np.float32)  # quarters: many ties, exact sums
    params = hpc.lib.hpc_kv_policy_default_params()
    params.kind, params.budget = HPC_KV_H2O, budget
    policy = C.c_void_p()
    hpc.check(hpc.lib.hpc_kv_policy_create(C.byref(params), C.byref(policy)), "hpc_kv_policy_create")
    tk, tv, ts = hpc.tensor(keys), hpc.tensor(values), hpc.tensor(scores)
    idx, kk, vv = C.c_void_p(), C.c_void_p(), C.c_void_p()
    hpc.check(hpc.lib.hpc_kv_policy_apply(policy, tk, tv, ts, None, C.byref(idx), C.byref(kk), C.byref(vv)),
              "hpc_kv_policy_apply")
    want_idx, want_k, want_v = numpy_h2o(keys, values, scores, budget, budget // 2)
    ok = (np.array_equal(hpc.numpy(idx), want_idx) and np.array_equal(hpc.numpy(kk), want_k)
          and np.array_equal(hpc.numpy(vv), want_v))
    print(f"KV policy H2O B={b} T={t} H={h} Hkv={hkv} budget={budget}: {'matches' if ok else 'DIFFERS from'} NumPy")
    hpc.free(tk, tv, ts, idx, kk, vv)
    hpc.check(hpc.lib.hpc_kv_policy_free(policy), "hpc_kv_policy_free")
    return int(not ok)


def vit_example(hpc, repo):
    """The committed ViT: preprocessing and logits vs NumPy, logits vs golden.json; returns the failure count."""
    with open(os.path.join(repo, "assets", "vit", "golden.json")) as f:
        golden = json.load(f)
    model_path = os.path.join(repo, "assets", "vit", "vit-fmnist.safetensors")
    tensors, meta = numpy_vit.read_safetensors(model_path)
    first, count = golden["first"], golden["count"]
    with gzip.open(os.path.join(repo, golden["images"])) as f:
        raw = f.read()
    n, height, width = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, count * height * width, 16 + first * height * width)

    vit, info = C.c_void_p(), VitInfo()
    hpc.check(hpc.lib.hpc_vit_load(model_path.encode(), C.byref(vit)), "hpc_vit_load")
    hpc.check(hpc.lib.hpc_vit_get_info(vit, C.byref(info)), "hpc_vit_get_info")
    pixels = C.c_void_p()
    hpc.check(hpc.lib.hpc_vit_preprocess(vit, images.ctypes.data, images.nbytes, count, height, width,
                                         C.byref(pixels)), "hpc_vit_preprocess")
    got_pixels = hpc.numpy(pixels)
    # 28 x 28 images into a 28 x 28 model: no resize, only (x / 255 - mean) / std.
    want_pixels = (images.reshape(count, 1, height, width) / 255.0 - float(meta["mean"])) / float(meta["std"])
    pixel_err = np.abs(got_pixels - want_pixels).max()
    logits = C.c_void_p()
    hpc.check(hpc.lib.hpc_vit_forward(vit, pixels, None, C.byref(logits)), "hpc_vit_forward")
    got = hpc.numpy(logits)
    want = numpy_vit.forward(tensors, meta, got_pixels)
    err = np.abs(got - want).max()
    # Golden tolerance of the managed test (VitTolerances.GoldenLogits): |ours - torch| <= 1e-3 + 1e-3 |torch|.
    torch = np.array(golden["logits"], np.float64)
    golden_ok = bool(np.all(np.abs(got - torch) <= 1e-3 + 1e-3 * np.abs(torch)))
    print(f"ViT {count} images: preprocess max |err| {pixel_err:.1e}, logits vs NumPy max |err| {err:.1e}, "
          f"vs PyTorch golden {'within' if golden_ok else 'OUTSIDE'} tolerance")
    hpc.free(pixels, logits)
    hpc.check(hpc.lib.hpc_vit_free(vit), "hpc_vit_free")
    # F32 through 8 blocks against float64: logits are O(1-10), GEMMs of length <= 128.
    return int(pixel_err > 1e-6) + int(err > 1e-4) + int(not golden_ok)


def main():
    default = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts", "native", "libhpccore.so")
    hpc = Lib(sys.argv[1] if len(sys.argv) > 1 else default)
    rng = np.random.default_rng(7)
    failures = 0

    for (b, tq, tk, h, hkv, d, causal) in [(2, 7, 33, 4, 2, 16, False), (1, 31, 31, 6, 1, 64, True)]:
        q = rng.uniform(-1, 1, (b, tq, h, d)).astype(np.float32)
        k = rng.uniform(-1, 1, (b, tk, hkv, d)).astype(np.float32)
        v = rng.uniform(-1, 1, (b, tk, hkv, d)).astype(np.float32)
        tq_, tk_, tv_, out = hpc.tensor(q), hpc.tensor(k), hpc.tensor(v), C.c_void_p()
        params = hpc.lib.hpc_attention_default_params()
        params.causal = int(causal)
        hpc.check(hpc.lib.hpc_attention_forward(tq_, tk_, tv_, C.byref(params), C.byref(out)), "attention")
        err = np.abs(hpc.numpy(out) - numpy_attention(q, k, v, causal)).max()
        print(f"attention B={b} Tq={tq} Tk={tk} H={h} Hkv={hkv} D={d} causal={causal}: max |err| vs NumPy {err:.2e}")
        failures += err > 2e-5
        hpc.free(tq_, tk_, tv_, out)

    scores = np.round(rng.uniform(-1, 1, (3, 129)) * 8).astype(np.float32) / 8  # many ties
    x = rng.uniform(-1, 1, (3, 129, 5)).astype(np.float32)
    k = 7
    want = np.argsort(-scores, axis=-1, kind="stable")[:, :k]  # descending, ties to the lower index
    ts, tx, values, indices = hpc.tensor(scores), hpc.tensor(x), C.c_void_p(), C.c_void_p()
    hpc.check(hpc.lib.hpc_topk(ts, k, C.byref(values), C.byref(indices)), "hpc_topk")
    ok = np.array_equal(hpc.numpy(indices), want) and np.array_equal(
        hpc.numpy(values), np.take_along_axis(scores, want, -1))
    print(f"top-k k={k} of 129 (ties): {'matches' if ok else 'DIFFERS from'} NumPy's stable argsort")
    failures += not ok

    kept, kept_idx = C.c_void_p(), C.c_void_p()
    prune = hpc.lib.hpc_prune_default_params()
    hpc.check(hpc.lib.hpc_prune_topk(tx, ts, k, C.byref(prune), C.byref(kept), C.byref(kept_idx)), "prune")
    order = np.sort(want, axis=-1)
    ok = np.array_equal(hpc.numpy(kept_idx), order) and np.array_equal(
        hpc.numpy(kept), np.take_along_axis(x, order[:, :, None], 1))
    print(f"top-k pruning keep_order=1: {'matches' if ok else 'DIFFERS from'} NumPy gather")
    failures += not ok
    hpc.free(ts, tx, values, indices, kept, kept_idx)

    failures += kv_example(hpc, rng)
    failures += vit_example(hpc, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

    # A bad argument comes back as a status and a message, never as a crash.
    status = hpc.lib.hpc_topk(None, 1, None, C.byref(C.c_void_p()))
    message = hpc.lib.hpc_last_error().decode()
    print(f"bad argument: status {status}: {message}")
    failures += status != 1 or "scores" not in message

    print("python example: ok" if failures == 0 else f"python example: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""PyTorch peer of benchmarks/HpcCore.GpuBenchmarks: torch.nn.functional.scaled_dot_product_attention on the same
shapes, dtypes and inputs layout ([B, T, H, D] tensors viewed as [B, H, T, D], as models call it), one JSON line per
(shape, dtype) with the same keys, so tools/gpu/compare_table.py can join them.

Method (as the C# side): seeded uniform [-1, 1] operands; one call checked on sampled rows against a float64
reference (relative L2 <= 1e-3 for f32, 1e-2 for f16; NaN fails); warm-up; then at least 5 calls, about
--min-seconds in all, each bracketed by CUDA events (time.perf_counter on CPU); median and min. Ends with a
device-to-device copy line (CUDA only). --smoke runs the tiny smoke shapes on whatever device is given (CPU here).
PyTorch before 2.0 has no scaled_dot_product_attention: the script then falls back to plain math (impl
"torch-math"), which is only good for checking that the script runs.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# Same shapes and keys as BenchShape.Full / BenchShape.Smoke: (B, H, Tq, Tk, D, causal).
FULL = [
    (1, 12, 1024, 1024, 64, False),
    (1, 12, 197, 197, 64, False),
    (8, 12, 197, 197, 64, False),
    (1, 32, 2048, 2048, 64, True),
    (1, 32, 4096, 4096, 64, True),
    (1, 32, 16384, 16384, 64, True),
    (1, 32, 1, 16384, 64, False),
]
SMOKE = [(1, 2, 9, 9, 8, True), (1, 2, 1, 40, 8, False)]
DTYPES = {"f32": torch.float32, "f16": torch.float16}
SAMPLE_ROWS = 24


def key(b, h, tq, tk, d, causal):
    return f"B{b}xH{h}xTq{tq}xTk{tk}xD{d}" + ("-causal" if causal else "")


def flops(b, h, tq, tk, d, causal):
    return 4.0 * b * h * tq * tk * d / (2 if causal and tq == tk else 1)


def attention(q, k, v, causal):
    """q [B, H, Tq, D], k and v [B, H, Tk, D]."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        tq, tk = s.shape[-2], s.shape[-1]
        mask = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(tk - tq)
        s = s.masked_fill(~mask, float("-inf"))
    return (torch.softmax(s, dim=-1) @ v.float()).to(q.dtype)


def rel_l2(q, k, v, out, causal):
    """Sampled (b, t, h) rows of out [B, Tq, H, D] against float64 (bottom-right causal = top-left when Tq == Tk)."""
    b_, tq, h_, d = q.shape
    tk = k.shape[1]
    g = torch.Generator().manual_seed(12345)
    err = norm = 0.0
    for i in range(SAMPLE_ROWS):
        b = int(torch.randint(b_, (1,), generator=g))
        h = int(torch.randint(h_, (1,), generator=g))
        t = 0 if i == 0 else tq - 1 if i == 1 else int(torch.randint(tq, (1,), generator=g))
        visible = min(tk, t + (tk - tq) + 1) if causal else tk
        qr = q[b, t, h].double().cpu()
        kr = k[b, :visible, h].double().cpu()
        vr = v[b, :visible, h].double().cpu()
        p = torch.softmax(kr @ qr / math.sqrt(d), dim=0)
        ref = p @ vr
        got = out[b, t, h].double().cpu()
        err += float(((got - ref) ** 2).sum())
        norm += float((ref ** 2).sum())
    return math.sqrt(err / max(norm, 1e-300))


def timed(fn, device, iters):
    times = []
    for _ in range(iters):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return times


def num(x):
    return None if x is None or not math.isfinite(x) else float(f"{x:.6g}")


def run_shape(shape, dname, args, device, device_name, impl):
    b, h, tq, tk, d, causal = shape
    dtype = DTYPES[dname]
    gen = torch.Generator(device="cpu").manual_seed(tq * 7919 + tk)
    q = (torch.rand(b, tq, h, d, generator=gen) * 2 - 1).to(device=device, dtype=dtype)
    k = (torch.rand(b, tk, h, d, generator=gen) * 2 - 1).to(device=device, dtype=dtype)
    v = (torch.rand(b, tk, h, d, generator=gen) * 2 - 1).to(device=device, dtype=dtype)
    qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)

    def once():
        return attention(qt, kt, vt, causal)

    out = once().transpose(1, 2)  # [B, Tq, H, D]
    if device.type == "cuda":
        torch.cuda.synchronize()
    rel = rel_l2(q, k, v, out, causal)
    limit = 1e-3 if dname == "f32" else 1e-2
    ok = rel <= limit
    line = {"bench": "attention", "impl": impl, "device": device_name, "shape": key(*shape), "dtype": dname,
            "b": b, "h": h, "tq": tq, "tk": tk, "d": d, "causal": causal, "torch": torch.__version__,
            "tf32": bool(getattr(torch.backends.cuda.matmul, "allow_tf32", False))}
    if not ok:
        print(f"{key(*shape)} {dname}: relative L2 error {rel:.3g} exceeds {limit:g}", file=sys.stderr)
        line.update(median_ms=None, min_ms=None, iters=0, tflops=None, gbps=None, rel_l2=num(rel), ok=False)
        print(json.dumps(line), flush=True)
        return 1
    warm = 0.0
    for _ in range(args.warmup):  # cut short after --min-seconds, like the C# side
        if warm >= args.min_seconds:
            break
        warm += timed(once, device, 1)[0]
    first = timed(once, device, 1)[0]
    iters = 3 if args.smoke else int(min(max(math.ceil(args.min_seconds / max(first, 1e-6)), 5), args.max_iters))
    times = sorted(timed(once, device, iters))
    med = statistics.median(times)
    size = 4 if dname == "f32" else 2
    nbytes = (2.0 * b * tq * h * d + 2.0 * b * tk * h * d) * size
    line.update(median_ms=num(med * 1e3), min_ms=num(times[0] * 1e3), iters=iters,
                tflops=num(flops(*shape) / med / 1e12), gbps=num(nbytes / med / 1e9), rel_l2=num(rel), ok=True)
    print(json.dumps(line), flush=True)
    return 0


def copy_line(device, device_name):
    nbytes = 1 << 30
    a = torch.empty(nbytes, dtype=torch.uint8, device=device)
    bb = torch.empty_like(a)
    times = sorted(timed(lambda: bb.copy_(a), device, 23)[3:])
    med = statistics.median(times)
    print(json.dumps({"bench": "copy", "impl": "torch", "device": device_name, "bytes": nbytes,
                      "median_ms": num(med * 1e3), "gbps": num(2.0 * nbytes / med / 1e9)}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny shapes (runs on CPU too)")
    p.add_argument("--dtype", choices=["f32", "f16", "all"], default="all")
    p.add_argument("--only", help="only shapes whose key contains this text")
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--max-iters", type=int, default=100)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    impl = "torch-sdpa" if hasattr(F, "scaled_dot_product_attention") else "torch-math"
    dtypes = ["f32", "f16"] if args.dtype == "all" else [args.dtype]
    rc = 0
    for shape in SMOKE if args.smoke else FULL:
        if args.only and args.only.lower() not in key(*shape).lower():
            continue
        for dname in dtypes:
            rc = max(rc, run_shape(shape, dname, args, device, device_name, impl))
    if device.type == "cuda" and not args.smoke:
        copy_line(device, device_name)
    return rc


if __name__ == "__main__":
    sys.exit(main())

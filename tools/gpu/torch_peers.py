#!/usr/bin/env python3
# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""PyTorch peers of `HpcCore.GpuBenchmarks ops` (issue #8), one JSON line per case with the same bench/shape/dtype
keys so tools/gpu/tables.py can join them: GEMM (F.linear = x W^T + b, the nn.Linear layout the C# side uses; TF32
off for f32), decode attention (SDPA, one query over 4k/32k keys, GQA via enable_gqa where available), one ViT-B/16
block, and ViT-B/16 end to end at batch 64 with and without ToMe r = 16, eager, f32 and f16, on seeded random
weights in timm names (vit_torch.py; the same file is written as safetensors for the C# side with --write-weights).
Each case is checked first (GEMM and decode against float64 on sampled rows: relative L2 <= 1e-3 f32, 1e-2 f16),
then timed with CUDA events (perf_counter on CPU): warm-up, at least 5 calls / about --min-seconds, median and min.
--smoke runs tiny shapes on whatever device (CPU here, PyTorch 1.13 is enough)."""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

import vit_torch

DT = {"f32": torch.float32, "f16": torch.float16}


def num(x):
    return None if x is None or not math.isfinite(x) else float(f"{x:.5g}")


class Runner:
    def __init__(self, args):
        self.args = args
        self.device = torch.device(args.device)
        self.cuda = self.device.type == "cuda"
        self.name = torch.cuda.get_device_name(self.device) if self.cuda else "cpu"
        self.rc = 0
        if self.cuda:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def timed(self, fn, iters):
        out = []
        for _ in range(iters):
            if self.cuda:
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                fn()
                e.record()
                torch.cuda.synchronize()
                out.append(s.elapsed_time(e) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
        return out

    def measure(self, bench, shape, dtype, fn, flops, nbytes, rel=None, limit=None, vs_copy=False, **extra):
        ok = rel is None or limit is None or rel <= limit  # no limit: the error is informational
        line = {"bench": bench, "impl": "torch", "device": self.name, "shape": shape, "dtype": dtype, "torch": torch.__version__,
                "flops": num(flops), "bytes": num(nbytes), "rel_l2": num(rel) if rel is not None else None, "ok": ok, **extra}
        if not ok:
            print(f"{bench} {shape} {dtype}: relative L2 {rel:.3g} > {limit:g}", file=sys.stderr)
            self.rc = 1
            print(json.dumps(line), flush=True)
            return None
        with torch.no_grad():
            fn()
            warm = 0.0
            for _ in range(3):
                if warm >= self.args.min_seconds:
                    break
                warm += self.timed(fn, 1)[0]
            first = self.timed(fn, 1)[0]
            iters = 3 if self.args.smoke else int(min(max(math.ceil(self.args.min_seconds / max(first, 1e-6)), 5), self.args.max_iters))
            times = sorted(self.timed(fn, iters))
        med = statistics.median(times)
        line.update(median_ms=num(med * 1e3), min_ms=num(times[0] * 1e3), iters=iters,
                    tflops=num(flops / med / 1e12) if flops else 0, gbps=num(nbytes / med / 1e9), status="ok",
                    vs_copy=num(nbytes / med / 1e9 / self.copy_gbps) if vs_copy and self.copy_gbps else None)
        print(json.dumps(line), flush=True)
        return med

    def rand(self, *shape, seed, dtype="f32", lo=-1.0, hi=1.0):
        g = torch.Generator().manual_seed(seed)
        return (lo + torch.rand(*shape, generator=g) * (hi - lo)).to(self.device, DT[dtype])

    def skip(self, bench, shape):
        return self.args.only is not None and self.args.only.lower() not in f"{bench} {shape}".lower()

    def copy(self):
        nbytes = (1 << 20) if self.args.smoke else (1 << 30)
        a = torch.zeros(nbytes, dtype=torch.uint8, device=self.device)
        b = torch.empty_like(a)
        self.copy_gbps = None
        med = self.measure("copy", f"{nbytes}B", "u8", lambda: b.copy_(a), 0, 2.0 * nbytes)
        self.copy_gbps = 2.0 * nbytes / med / 1e9

    def gemm(self):
        m = 33 if self.args.smoke else 64 * 197
        shapes = [("qkv", m, 24, 72), ("fc2", m, 40, 24)] if self.args.smoke else \
            [("qkv", m, 768, 2304), ("proj", m, 768, 768), ("fc1", m, 768, 3072), ("fc2", m, 3072, 768), ("square", 4096, 4096, 4096)]
        for name, mm, k, n in shapes:
            shape = f"{name}-{mm}x{k}x{n}"
            for dt in ("f32", "f16"):
                if self.skip("gemm", shape) or (dt == "f16" and not self.cuda):
                    continue  # CPU matmul in f16 is not a meaningful peer (and slow in 1.13)
                a, w, bias = self.rand(mm, k, seed=1, dtype=dt), self.rand(n, k, seed=2, dtype=dt), self.rand(n, seed=3, dtype=dt)
                out = F.linear(a, w, bias)
                rows = torch.linspace(0, mm - 1, 16).long()
                ref = a[rows].double() @ w.double().T + bias.double()
                rel = float((out[rows].double() - ref).norm() / ref.norm())
                es = 4 if dt == "f32" else 2
                self.measure("gemm", shape, dt, lambda: F.linear(a, w, bias), 2.0 * mm * n * k, (mm * k + n * k + mm * n) * es,
                             rel, 1e-3 if dt == "f32" else 1e-2)

    def decode(self):
        shapes = [(4, 4, 70, 16), (4, 1, 300, 16)] if self.args.smoke else [(32, 32, 4096, 128), (32, 32, 32768, 128), (32, 8, 32768, 128)]
        gqa_kw = hasattr(F, "scaled_dot_product_attention") and "enable_gqa" in (F.scaled_dot_product_attention.__doc__ or "")
        for h, hkv, tk, d in shapes:
            shape = f"B1xH{h}xHkv{hkv}xTq1xTk{tk}xD{d}"
            for dt in ("f32", "f16"):
                if self.skip("decode", shape) or (dt == "f16" and not self.cuda):
                    continue  # CPU f16 matmul is missing in PyTorch 1.13
                q = self.rand(1, h, 1, d, seed=1, dtype=dt)
                k = self.rand(1, hkv, tk, d, seed=2, dtype=dt)
                v = self.rand(1, hkv, tk, d, seed=3, dtype=dt)
                if hkv != h and gqa_kw:
                    def fn():
                        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                else:
                    def fn():
                        kk = k if hkv == h else k.repeat_interleave(h // hkv, dim=1)
                        vv = v if hkv == h else v.repeat_interleave(h // hkv, dim=1)
                        return vit_torch.attention(q, kk, vv)
                out = fn().double()
                kk, vv = k.double().repeat_interleave(h // hkv, dim=1), v.double().repeat_interleave(h // hkv, dim=1)
                ref = torch.softmax(q.double() @ kk.transpose(-1, -2) / math.sqrt(d), dim=-1) @ vv
                rel = float((out - ref).norm() / ref.norm())
                es = 4 if dt == "f32" else 2
                nbytes = (2.0 * tk * hkv * d + 2.0 * h * d) * es
                self.measure("decode", shape, dt, fn, 4.0 * h * tk * d, nbytes, rel, 1e-3 if dt == "f32" else 1e-2, vs_copy=True,
                             gqa=("enable_gqa" if gqa_kw else "repeat_interleave") if hkv != h else None)

    def vit(self):
        cfg = vit_torch.SMOKE if self.args.smoke else vit_torch.BASE
        sd = vit_torch.random_weights(cfg, seed=self.args.seed)
        if self.args.write_weights:
            vit_torch.save_safetensors(sd, self.args.write_weights)
            assert set(vit_torch.load_safetensors(self.args.write_weights)) == set(sd)
        b = 2 if self.args.smoke else 64
        t = (cfg["img"] // cfg["patch"]) ** 2 + 1
        c, heads = cfg["dim"], cfg["heads"]
        key = f"B{b}xT{t}xC{c}xH{heads}"
        r = 2 if self.args.smoke else 16
        images = self.rand(b, 3, cfg["img"], cfg["img"], seed=9)
        block_flops = 2.0 * b * t * 12 * c * c + 4.0 * b * t * t * c
        ref = None
        for dt in ("f32", "f16"):
            if dt == "f16" and not self.cuda:
                continue
            w = {k: v.to(self.device, DT[dt]) for k, v in sd.items()}
            x = self.rand(b, t, c, seed=10, dtype=dt)
            if not self.skip("vit-block", key):
                self.measure("vit-block", key, dt, lambda: vit_torch.block(x, w, 0, heads), block_flops, 4.0 * 12 * c * c + 8.0 * b * t * c)
            img = images.to(DT[dt])
            for rr in (0, r):
                shape = f"vitb16-B{b}" + (f"-tome-r{rr}" if rr else "")
                if self.skip("vit", shape):
                    continue
                with torch.no_grad():
                    logits = vit_torch.forward(img, w, cfg, rr).float()
                rel = None
                if rr == 0 and dt == "f32":
                    ref = logits
                elif rr == 0 and ref is not None:
                    rel = float((logits - ref).norm() / ref.norm())  # f16 vs f32 logits: informational
                self.measure("vit", shape, dt, lambda: vit_torch.forward(img, w, cfg, rr), cfg["depth"] * block_flops,  # nominal (unreduced) FLOPs for both
                             4.0 * 12 * c * c * cfg["depth"], rel, None,  # f16 vs f32 logits: reported, not gated
                             top1=logits.argmax(-1)[:8].tolist())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--only")
    p.add_argument("--min-seconds", type=float, default=0.3)
    p.add_argument("--max-iters", type=int, default=50)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0, help="ViT weight seed")
    p.add_argument("--write-weights", help="also write the ViT weights (timm names) to this safetensors file")
    args = p.parse_args()
    r = Runner(args)
    r.copy()
    r.gemm()
    r.decode()
    r.vit()
    return r.rc


if __name__ == "__main__":
    sys.exit(main())

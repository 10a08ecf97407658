#!/usr/bin/env python3
# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""Prints the BENCHMARKS.md "GPU" tables (Markdown) from the JSON lines of one tools/gpu/run_all.sh run.
Usage: tables.py DIR   (DIR holds validate.jsonl, ops.jsonl, torch_peers.jsonl, ptx.jsonl, ptx/*.ptxas, and the
attention table.md written by compare_attention.sh). Exit code 1 when a validation line failed."""
import glob
import json
import os
import re
import sys


def load(path):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    return rows


def f(x, spec):
    return "-" if x is None else format(x, spec)


def ratio(a, b):
    return a / b if a and b else None


def validation(rows):
    fails = [r for r in rows if not r.get("ok", False)]
    unsupported = sorted({f"{r['op']} {r['dtype']}" for r in rows if r.get("status") == "not_supported"})
    print(f"### Validation (GPU vs CPU backend)\n\n{len(rows)} checks, {len(fails)} failed; not supported: {', '.join(unsupported) or 'none'}.\n")
    worst = {}
    for r in rows:
        if r.get("status") in ("pass", "fail"):
            k = (r["op"], r["dtype"], r["output"])
            w = worst.setdefault(k, {"shapes": 0, "rel": 0.0, "abs": 0.0, "mis": 0, "tol": r["tol"], "exact": r["exact"], "ok": True})
            w["shapes"] += 1
            w["rel"] = max(w["rel"], r["rel_l2"] if r["rel_l2"] is not None else float("inf"))
            w["abs"] = max(w["abs"], r["max_abs"] if r["max_abs"] is not None else float("inf"))
            w["mis"] += r["mismatches"]
            w["ok"] &= r["ok"]
    print("| op | dtype | output | shapes | worst rel L2 | worst max abs | mismatches | limit | result |")
    print("|---|---|---|---:|---:|---:|---:|---|---|")
    for (op, dt, out), w in worst.items():
        limit = "exact" if w["exact"] else f"rel L2 <= {w['tol']:g}"
        print(f"| {op} | {dt} | {out} | {w['shapes']} | {f(w['rel'], '.1e')} | {f(w['abs'], '.1e')} | {w['mis']} | {limit} | {'pass' if w['ok'] else '**FAIL**'} |")
    for r in fails:
        print(f"\nFAILED: {r.get('op')} {r.get('shape')} {r.get('dtype')} {r.get('output')}: {json.dumps(r)}")
    print()
    return 1 if fails else 0


def joined(title, ours, theirs, bench, cols):
    keys = [(r["shape"], r["dtype"]) for r in ours if r["bench"] == bench]
    keys += [k for k in ((r["shape"], r["dtype"]) for r in theirs if r["bench"] == bench) if k not in keys]
    if not keys:
        return
    o = {(r["shape"], r["dtype"]): r for r in ours if r["bench"] == bench}
    t = {(r["shape"], r["dtype"]): r for r in theirs if r["bench"] == bench}
    print(f"### {title}\n")
    print("| shape | dtype | ours ms | torch ms | torch ms / ours ms | " + " | ".join(c[0] for c in cols) + " |")
    print("|---|---|---:|---:|---:|" + "---:|" * len(cols))
    for k in keys:
        a, b = o.get(k, {}), t.get(k, {})
        om = a.get("median_ms") if a.get("status") == "ok" else None
        cells = [c[1](a, b) for c in cols]
        note = "not supported" if a.get("status") == "not_supported" else f(om, ".3f")
        print(f"| {k[0]} | {k[1]} | {note} | {f(b.get('median_ms'), '.3f')} | {f(ratio(b.get('median_ms'), om), '.3f')} | " + " | ".join(cells) + " |")
    print()


def ptx(rows, folder):
    if not rows:
        return
    print("### Kernels: PTX for sm_90 (ILGPU 1.5.3 emits .target sm_80) and ptxas -arch=sm_90 -v\n")
    print("| kernel | PTX instructions | static shared B | dynamic shared | local B (PTX) | registers | spill stores/loads B | ptxas smem B |")
    print("|---|---:|---:|---|---:|---:|---|---:|")
    for r in rows:
        regs = spills = smem = None
        p = os.path.join(folder, "ptx", r["file"] + "as")
        if os.path.exists(p):
            text = open(p, encoding="utf-8", errors="replace").read()
            m = re.search(r"Used (\d+) registers", text)
            regs = int(m.group(1)) if m else None
            m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", text)
            spills = f"{m.group(1)}/{m.group(2)}" if m else None
            m = re.search(r"(\d+) bytes smem", text)
            smem = int(m.group(1)) if m else None
        print(f"| {r['kernel']} | {r['instructions']} | {r['static_shared_bytes']} | {'yes' if r['dynamic_shared'] else 'no'} | {r['local_bytes']} | "
              f"{f(regs, 'd')} | {spills or '-'} | {f(smem, 'd')} |")
    print()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = sys.argv[1]
    ours, theirs = load(os.path.join(d, "ops.jsonl")), load(os.path.join(d, "torch_peers.jsonl"))
    device = next((r.get("device") for r in ours + theirs if r.get("device")), "?")
    peaks = next((r.get("peaks") for r in ours if r.get("peaks")), "none")
    print(f"device: {device}; assumed peaks: {peaks}\n")
    rc = validation(load(os.path.join(d, "validate.jsonl")))
    table = os.path.join(d, "table.md")
    if os.path.exists(table):
        print("### Attention vs PyTorch scaled_dot_product_attention\n")
        print(open(table, encoding="utf-8").read())
    copies = [r for r in ours + theirs if r["bench"] == "copy"]
    for c in copies:
        print(f"device-to-device copy ({c['impl']}): {c.get('gbps')} GB/s (read + write)\n")
    floor = [("TFLOP/s ours", lambda a, b: f(a.get("tflops"), ".2f")), ("TFLOP/s torch", lambda a, b: f(b.get("tflops"), ".2f")),
             ("floor ms", lambda a, b: f(a.get("floor_ms"), ".3f")), ("ours of floor", lambda a, b: f(a.get("of_floor"), ".2f")),
             ("bound", lambda a, b: a.get("bound", "-"))]
    joined("GEMM (x W^T + b; torch F.linear, TF32 off)", ours, theirs, "gemm", floor)
    joined("Decode attention (one query, split over keys)", ours, theirs, "decode",
           [("GB/s ours", lambda a, b: f(a.get("gbps"), ".0f")), ("ours / copy", lambda a, b: f(a.get("vs_copy"), ".2f")),
            ("GB/s torch", lambda a, b: f(b.get("gbps"), ".0f")), ("torch / copy", lambda a, b: f(b.get("vs_copy"), ".2f")),
            ("floor ms", lambda a, b: f(a.get("floor_ms"), ".3f")), ("ours of floor", lambda a, b: f(a.get("of_floor"), ".2f"))])
    joined("Token reduction (ours only)", ours, [], "selection",
           [("GB/s", lambda a, b: f(a.get("gbps"), ".1f")), ("floor ms", lambda a, b: f(a.get("floor_ms"), ".4f")),
            ("of floor", lambda a, b: f(a.get("of_floor"), ".3f")), ("bound", lambda a, b: a.get("bound", "-"))])
    joined("ViT-B/16 block (f32; torch eager, same structure)", ours, theirs, "vit-block", floor[:4])
    for s in (r for r in ours if r["bench"] == "vit-block-share"):
        print(f"ToMe r=16 step (plan + merge) = {s['tome_step_ms']} ms = {100 * s['tome_share']:.1f}% of the block with ToMe "
              f"({s['block_tome_ms']} ms; block alone {s['block_ms']} ms)\n")
    joined("ViT-B/16 end to end, batch 64 (torch eager; the HpcCore side waits for the C# ViT model)", [], theirs, "vit",
           [("torch TFLOP/s (nominal)", lambda a, b: f(b.get("tflops"), ".2f"))])
    ptx(load(os.path.join(d, "ptx.jsonl")), d)
    return rc


if __name__ == "__main__":
    sys.exit(main())

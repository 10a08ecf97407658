#!/usr/bin/env python3
# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""Joins the JSON lines of HpcCore.GpuBenchmarks and sdpa_bench.py on (shape, dtype) and prints a Markdown table:
median times, TFLOP/s, both accuracy figures and ratio = PyTorch time / our time (above 1: we are faster), plus the
copy-bandwidth lines. Usage: compare_table.py ours.jsonl torch.jsonl"""
import json
import sys


def load(path):
    rows, copies = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("bench") == "copy":
                copies.append(r)
            elif r.get("bench") == "attention":
                rows[(r["shape"], r["dtype"])] = r
    return rows, copies


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ours, our_copies = load(sys.argv[1])
    theirs, their_copies = load(sys.argv[2])
    device = next((r["device"] for r in list(ours.values()) + list(theirs.values())), "?")
    print(f"device: {device}")
    print()
    print("| shape | dtype | ours ms | torch ms | ours TFLOP/s | torch TFLOP/s | ours rel L2 | torch rel L2 | ratio (torch ms / ours ms) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0
    for k in sorted(set(ours) | set(theirs), key=lambda k: (list(ours).index(k) if k in ours else 1e9, k)):
        o, t = ours.get(k, {}), theirs.get(k, {})
        om, tm = o.get("median_ms"), t.get("median_ms")
        ratio = tm / om if om and tm else None
        if o and not o.get("ok", False) or t and not t.get("ok", False):
            worst = 1
        print(f"| {k[0]} | {k[1]} | {fmt(om, '.3f')} | {fmt(tm, '.3f')} | {fmt(o.get('tflops'), '.2f')} | "
              f"{fmt(t.get('tflops'), '.2f')} | {fmt(o.get('rel_l2'), '.1e')} | {fmt(t.get('rel_l2'), '.1e')} | {fmt(ratio, '.3f')} |")
    for c in our_copies + their_copies:
        print()
        print(f"device-to-device copy ({c['impl']}): {c['gbps']} GB/s (read + write, {c['bytes']} bytes)")
    return worst


if __name__ == "__main__":
    sys.exit(main())

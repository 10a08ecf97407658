"""Times libhpccore builds against each other through ctypes: the ViT classifier forward (the committed model, 8 images)
and fused attention ([1, 197, 12, 64], and [1, 1024, 8, 64] causal). Each library runs in its own Python process
(two NativeAOT runtimes do not share one), the processes alternate ROUNDS times, and the medians over every timed call
are printed with the load average. Usage: bench_isa.py NAME=path/libhpccore.so [NAME=path ...]"""
import json
import os
import subprocess
import sys
import time
import ctypes as C

import numpy as np

ROUNDS, WARMUP, CALLS = 6, 3, 15


def measure(path, repo):
    sys.path.insert(0, os.path.dirname(__file__))
    from hpccore_example import Lib  # noqa: E402 (the bindings of the example)
    hpc, rng = Lib(path), np.random.default_rng(0)
    lib = hpc.lib
    times = {}

    def timed(name, call):
        for _ in range(WARMUP):
            call()
        runs = []
        for _ in range(CALLS):
            start = time.perf_counter()
            call()
            runs.append(time.perf_counter() - start)
        times[name] = runs

    vit = C.c_void_p()
    hpc.check(lib.hpc_vit_load(os.path.join(repo, "assets/vit/vit-fmnist.safetensors").encode(), C.byref(vit)), "load")
    images = rng.integers(0, 256, (8, 28, 28, 1), dtype=np.uint8)
    pixels = C.c_void_p()
    hpc.check(lib.hpc_vit_preprocess(vit, images.ctypes.data, images.nbytes, 8, 28, 28, C.byref(pixels)), "preprocess")

    def vit_forward():
        logits = C.c_void_p()
        hpc.check(lib.hpc_vit_forward(vit, pixels, None, C.byref(logits)), "forward")
        hpc.free(logits)

    timed("vit_forward_8", vit_forward)
    for name, shape, causal in (("attention_197x12x64", (1, 197, 12, 64), 0), ("attention_1024x8x64_causal", (1, 1024, 8, 64), 1)):
        q = hpc.tensor(rng.standard_normal(shape, dtype=np.float32))
        params = lib.hpc_attention_default_params()
        params.causal = causal

        def attention():
            out = C.c_void_p()
            hpc.check(lib.hpc_attention_forward(q, q, q, C.byref(params), C.byref(out)), "attention")
            hpc.free(out)

        timed(name, attention)
        hpc.free(q)
    hpc.free(pixels)
    lib.hpc_vit_free(vit)
    print(json.dumps(times))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3])
        return
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    builds = dict(arg.split("=", 1) for arg in sys.argv[1:])
    runs = {name: {} for name in builds}
    loads = [os.getloadavg()[0]]
    for _ in range(ROUNDS):
        for name, path in builds.items():
            out = subprocess.run([sys.executable, __file__, "--measure", path, repo], check=True, capture_output=True, text=True)
            for op, values in json.loads(out.stdout).items():
                runs[name].setdefault(op, []).extend(values)
            loads.append(os.getloadavg()[0])
    for name, ops in runs.items():
        for op, values in ops.items():
            print(f"{name:>6} {op:<28} median {np.median(values) * 1e3:8.3f} ms  (min {min(values) * 1e3:.3f}, {len(values)} calls)")
    print(f"1-min load average during the runs: {min(loads):.1f} .. {max(loads):.1f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

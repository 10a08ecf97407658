"""Accuracy of ToMe merge schedules (r per block) on all 10,000 Fashion-MNIST test images, in PyTorch, with the
FLOPs each schedule saves; how BENCHMARKS.md's "Tried next" schedules were measured.

    /usr/bin/python3 tools/train/vit/tome_schedules.py CKPT [CKPT...] [--schedules 0 28 72:48:0:0 ...] [--images N]

CKPT: a train.py checkpoint (final.pt). A schedule is r per block joined by ':' or one r for every block; the
default list is the 4-block one of BENCHMARKS.md. FLOPs count the block's matrix products: q/k/v/proj 4 D^2 T and attention
2 T^2 D over the tokens entering the block, the MLP 2 D H T over those left after its merge (ToMe merges between
attention and MLP), patch embedding and head excluded.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import load, normalise  # noqa: E402
from model import VisionTransformer  # noqa: E402
import tome_forward  # noqa: E402

SCHEDULES = ["0", "64", "48", "98:0:0:0", "98:16:0:0", "98:24:8:0", "80:32:0:0", "90:24:0:0", "98:32:0:0", "72:48:0:0"]


def flops(rs, tokens=197, dim=64, hidden=128):
    total = 0
    for r in rs:
        total += 4 * dim * dim * tokens + 2 * tokens * tokens * dim
        tokens -= min(r, (tokens - 1) // 2)  # bipartite matching merges at most half of the patch tokens
        total += 2 * dim * hidden * tokens
    return total


p = argparse.ArgumentParser()
p.add_argument("ckpts", nargs="+")
p.add_argument("--schedules", nargs="+", default=SCHEDULES)
p.add_argument("--images", type=int, default=10000, help="score the first N test images")
a = p.parse_args()
torch.set_num_threads(1)
x, y = load("test")
x, y = normalise(x[:a.images]), torch.from_numpy(y[:a.images].astype("int64"))
for path in a.ckpts:
    ck = torch.load(path)
    model = VisionTransformer(**ck["cfg"])
    model.load_state_dict(ck["state"])
    model.eval()
    depth = len(model.blocks)
    for text in a.schedules:
        rs = tome_forward.schedule(text, depth)
        with torch.no_grad():
            correct = sum((tome_forward.forward(model, x[i:i + 1000], rs).argmax(1) == y[i:i + 1000]).sum().item()
                          for i in range(0, len(y), 1000))
        print(f"{path} r per block {rs}: top-1 {100 * correct / len(y):.2f}%, "
              f"{flops([0] * depth) / flops(rs):.2f}x fewer FLOPs", flush=True)

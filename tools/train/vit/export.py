"""Export a checkpoint from train.py: safetensors (timm names), ONNX, golden logits and a training note.

Also writes the committed evaluation subset: the first --subset Fashion-MNIST test images and labels as gzip'd IDX.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import MEAN, STD, load, normalise  # noqa: E402
from model import VisionTransformer  # noqa: E402
import tome_forward  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--ckpt", default="/tmp/vit-train/final.pt")
p.add_argument("--out", default="assets/vit")
p.add_argument("--data-out", default="assets/data/fashion-mnist")
p.add_argument("--subset", type=int, default=1000)
p.add_argument("--golden", type=int, default=8)
p.add_argument("--golden-tome", default="26",
               help="ToMe schedule of the golden ToMe logits: one r for every block, or r per block joined by ':'")
p.add_argument("--note", default="", help="free text for training.json: total training time, machine, load")
p.add_argument("--logs", nargs="*", default=[],
               help="log.jsonl of each run (a continuation with --init is a second run), in order; they are "
                    "concatenated into training-log.jsonl with a run number")
a = p.parse_args()
torch.set_num_threads(2)

ck = torch.load(a.ckpt)
cfg = ck["cfg"]
model = VisionTransformer(**cfg)
model.load_state_dict(ck["state"])
model.eval()
os.makedirs(a.out, exist_ok=True)
os.makedirs(a.data_out, exist_ok=True)


def write_safetensors(path, tensors, metadata):
    """The safetensors layout (8-byte little-endian header length, JSON header, raw little-endian data)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32).numpy()
        raw = t.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # keeps every tensor 8-byte aligned for zero-copy loading
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


meta = {k: str(v) for k, v in cfg.items()}
meta.update(mean=str(MEAN), std=str(STD), layer_norm_eps="1e-06", dataset="fashion-mnist",
            test_accuracy=str(ck["rec"].get("test_acc", ck["rec"].get("acc1000"))))
write_safetensors(os.path.join(a.out, "vit-fmnist.safetensors"), model.state_dict(), meta)

# ONNX of the same model (batch axis dynamic) for the ONNX Runtime comparison benchmark.
dummy = torch.zeros(1, cfg["chans"], cfg["img"], cfg["img"])
torch.onnx.export(model, dummy, os.path.join(a.out, "vit-fmnist.onnx"), input_names=["pixels"],
                  output_names=["logits"], dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
                  opset_version=14)

xte, yte = load("test")


def write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(head + arr.tobytes())


write_idx(os.path.join(a.data_out, "t10k-images-idx3-ubyte.gz"), xte[:a.subset])
write_idx(os.path.join(a.data_out, "t10k-labels-idx1-ubyte.gz"), yte[:a.subset])

with torch.no_grad():
    x = normalise(xte[:a.subset])
    logits = torch.cat([model(x[i:i + 250]) for i in range(0, len(x), 250)])
    rs = tome_forward.schedule(a.golden_tome, cfg["depth"])
    tome_logits = tome_forward.forward(model, x[:a.golden], rs)
subset_acc = (logits.argmax(1).numpy() == yte[:a.subset]).mean().item()
golden = dict(images="assets/data/fashion-mnist/t10k-images-idx3-ubyte.gz", first=0, count=a.golden,
              mean=MEAN, std=STD, labels=yte[:a.golden].tolist(),
              logits=[[round(float(v), 7) for v in row] for row in logits[:a.golden]],
              tome=dict(schedule=rs, logits=[[round(float(v), 7) for v in row] for row in tome_logits]),
              subset_accuracy=subset_acc, torch=torch.__version__)
with open(os.path.join(a.out, "golden.json"), "w") as f:
    json.dump(golden, f, indent=1)
note = dict(config=cfg, record=ck["rec"], subset_accuracy=subset_acc,
            params=sum(p_.numel() for p_ in model.parameters()), note=a.note)
if a.logs:
    with open(os.path.join(a.out, "training-log.jsonl"), "w") as f:
        for run, path in enumerate(a.logs, 1):
            for line in open(path):
                if line.strip():
                    f.write(json.dumps(dict(run=run, **json.loads(line))) + "\n")
with open(os.path.join(a.out, "training.json"), "w") as f:
    json.dump(note, f, indent=1)
print(json.dumps(note))

# Copyright (c) HpcCore contributors. Licensed under the MIT license.
"""Writes a golden safetensors file by hand (header JSON padded to 8 bytes, tensors in sorted-name order), so that
reading it also cross-checks our safetensors reader against an independent writer."""
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.int64: "I64"}


def _raw(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16: same bits as int16
    return t.numpy().tobytes()


def write(path, tensors, generator):
    """tensors: name -> torch tensor; generator: the script's repo path, stored as metadata and checked by tests."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = _raw(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"generator": generator, "torch": torch.__version__}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    print(f"wrote {len(tensors)} tensors, {offset} data bytes to {path}")

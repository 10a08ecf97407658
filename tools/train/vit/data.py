"""Fashion-MNIST IDX (gzip) reader; the files come from Debian's dataset-fashion-mnist package."""
import gzip
import struct
import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set pixel statistics (the C# model uses the same numbers)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split, root=ROOT):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(f"{root}/{prefix}-images-idx3-ubyte.gz")
    y = read_idx(f"{root}/{prefix}-labels-idx1-ubyte.gz")
    return x, y


def normalise(x_u8):
    import torch
    x = torch.from_numpy(x_u8.astype(np.float32) / 255.0)
    return ((x - MEAN) / STD).unsqueeze(1)  # [N, 1, 28, 28]

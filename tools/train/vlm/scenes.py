"""Synthetic Fashion-MNIST grid scenes and their questions, shared by train.py and export.py.

A scene is a 2 x 2 grid of 28 x 28 cells (56 x 56 pixels); a cell holds one Fashion-MNIST item or is empty. The
questions need where things are and what they are: "what row-R col-C ?" (a class or empty), "how-many CLASS ?"
(0..4) and "is-there CLASS ?" (yes/no). Every answer is one token of a 32-token vocabulary. Base mode: the scene
average-pooled 2 x 2 to one 28 x 28 thumbnail (196 ViT patches). High-resolution mode (LLaVA-NeXT AnyRes): the
thumbnail, then the four full-resolution cells as crops (5 x 196 patches).
"""
import numpy as np

GRID = 2
CELL = 28
SIDE = GRID * CELL
EMPTY_P = 0.25
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST pixel statistics, as the ViT was trained with

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
TOKENS = (["<pad>", "<s>", "what", "how-many", "is-there", "row-1", "row-2", "col-1", "col-2"] + CLASSES +
          ["?", "empty", "yes", "no", "0", "1", "2", "3", "4"])
TOKENS += [f"<unused{i}>" for i in range(32 - len(TOKENS))]
ID = {t: i for i, t in enumerate(TOKENS)}
PAD, BOS, WHAT, HOWMANY, ISTHERE, QMARK, EMPTY, YES, NO = (ID[t] for t in
                                                         ["<pad>", "<s>", "what", "how-many", "is-there", "?", "empty", "yes", "no"])
ROW0, COL0, CLASS0, DIGIT0 = ID["row-1"], ID["col-1"], ID["t-shirt"], ID["0"]
VOCAB = len(TOKENS)


def make_scene(rng, labels, by_class):
    """Image indices of the four cells (-1: empty); classes repeat often so that counting is not trivially 0/1."""
    cells = []
    present = []
    for _ in range(GRID * GRID):
        if rng.random() < EMPTY_P:
            cells.append(-1)
            continue
        k = int(rng.choice(present)) if present and rng.random() < 0.4 else int(rng.integers(10))
        present.append(k)
        cells.append(int(rng.choice(by_class[k])))
    return cells


def cell_classes(cells, labels):
    return [-1 if c < 0 else int(labels[c]) for c in cells]


def make_question(rng, classes):
    """(question token ids ending in '?', answer token id) for a scene with cell classes `classes`."""
    kind = rng.integers(3)
    present = [k for k in classes if k >= 0]
    if kind == 0:
        cell = int(rng.integers(GRID * GRID))
        r, c = divmod(cell, GRID)
        ans = EMPTY if classes[cell] < 0 else CLASS0 + classes[cell]
        return [WHAT, ROW0 + r, COL0 + c, QMARK], ans
    k = int(rng.choice(present)) if present and rng.random() < 0.6 else int(rng.integers(10))
    if kind == 1:
        return [HOWMANY, CLASS0 + k, QMARK], DIGIT0 + present.count(k)
    return [ISTHERE, CLASS0 + k, QMARK], YES if k in present else NO


def render(cells, images):
    """The 56 x 56 scene, float32 in [0, 1]."""
    img = np.zeros((SIDE, SIDE), np.float32)
    for i, c in enumerate(cells):
        if c >= 0:
            r, col = divmod(i, GRID)
            img[r * CELL:(r + 1) * CELL, col * CELL:(col + 1) * CELL] = images[c].astype(np.float32) / 255.0
    return img


def views(scene, high_res):
    """Normalised ViT inputs [n, 28, 28]: the 2 x 2 average-pooled thumbnail, then (high_res) the cells row-major."""
    q = scene.reshape(CELL, 2, CELL, 2)
    thumb = (((q[:, 0, :, 0] + q[:, 0, :, 1]) + q[:, 1, :, 0]) + q[:, 1, :, 1]) / np.float32(4)  # the C# order
    out = [thumb]
    if high_res:
        for i in range(GRID * GRID):
            r, c = divmod(i, GRID)
            out.append(scene[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL])
    return ((np.stack(out) - np.float32(MEAN)) / np.float32(STD)).astype(np.float32)

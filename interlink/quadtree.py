"""A quad-tree spatial partitioner built from a sample of MBRs, for the Spark engine.

Leaves are half-open boxes ``[x0, x1) x [y0, y1)`` that tile the extent, so every point of it
lies in exactly one leaf: the reference-point rule (a pair belongs to the leaf holding the
lower-left corner of its two MBRs' intersection) then sends every candidate pair to one leaf.
"""
from __future__ import annotations

import numpy as np


def extent(*bounds: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] covering every MBR, the upper edges nudged up so that they are inside."""
    b = np.concatenate([x for x in bounds if len(x)]) if any(len(x) for x in bounds) else np.zeros((1, 4))
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = np.nextafter(b[:, 2].max(), np.inf), np.nextafter(b[:, 3].max(), np.inf)
    return np.array([x0, y0, x1, y1])


def build(root: np.ndarray, sample: np.ndarray, leaves: int, max_depth: int = 12) -> np.ndarray:
    """Leaf boxes (k, 4): a node splits into quadrants while it holds more than
    ``len(sample) / leaves`` sample points (MBR centres) and is shallower than ``max_depth``."""
    capacity = max(1, len(sample) // max(1, leaves))
    out, todo = [], [(root, sample, 0)]
    while todo:
        box, pts, depth = todo.pop()
        if len(pts) <= capacity or depth >= max_depth:
            out.append(box)
            continue
        mx, my = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        for q in ((box[0], box[1], mx, my), (mx, box[1], box[2], my), (box[0], my, mx, box[3]), (mx, my, box[2], box[3])):
            q = np.array(q)
            inside = (pts[:, 0] >= q[0]) & (pts[:, 0] < q[2]) & (pts[:, 1] >= q[1]) & (pts[:, 1] < q[3])
            todo.append((q, pts[inside], depth + 1))
    return np.array(out).reshape(-1, 4)


def assign(leaves: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(leaf, row) for every leaf an MBR overlaps (closed MBR against half-open leaf)."""
    rows, parts = [], []
    for k, (x0, y0, x1, y1) in enumerate(leaves):
        hit = np.flatnonzero((bounds[:, 0] < x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] < y1) & (bounds[:, 3] >= y0))
        rows.append(hit)
        parts.append(np.full(len(hit), k))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(parts), np.concatenate(rows)


def centres(bounds: np.ndarray) -> np.ndarray:
    return np.column_stack([(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2])

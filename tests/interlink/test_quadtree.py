"""interlink.quadtree: leaves tile the extent; a pair's reference point lies in one leaf that holds both MBRs."""
import numpy as np

from interlink import quadtree


def _boxes(rng, n, scale):
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.exponential(scale, (n, 2))
    return np.column_stack([xy, xy + wh])


def test_leaves_tile_the_extent_and_follow_the_sample():
    rng = np.random.default_rng(1)
    bounds = np.concatenate([_boxes(rng, 3000, 1.0), _boxes(rng, 500, 0.2) * 0.1])  # a dense corner
    root = quadtree.extent(bounds)
    leaves = quadtree.build(root, quadtree.centres(bounds), 16)
    assert len(leaves) >= 16
    area = ((leaves[:, 2] - leaves[:, 0]) * (leaves[:, 3] - leaves[:, 1])).sum()
    assert np.isclose(area, (root[2] - root[0]) * (root[3] - root[1]))
    pts = rng.uniform(root[:2], root[2:], (5000, 2))
    inside = ((pts[:, None, 0] >= leaves[:, 0]) & (pts[:, None, 0] < leaves[:, 2])
              & (pts[:, None, 1] >= leaves[:, 1]) & (pts[:, None, 1] < leaves[:, 3]))
    assert (inside.sum(axis=1) == 1).all()  # every point in exactly one leaf
    small = (leaves[:, 2] - leaves[:, 0]) < (root[2] - root[0]) / 8
    assert small.any() and (leaves[small, 0] < 20).all()  # the dense corner is cut finer


def test_reference_point_leaf_holds_both_mbrs():
    rng = np.random.default_rng(2)
    a, b = _boxes(rng, 400, 3.0), _boxes(rng, 400, 3.0)
    root = quadtree.extent(a, b)
    leaves = quadtree.build(root, quadtree.centres(np.concatenate([a, b])), 32)
    la, ra = quadtree.assign(leaves, a)
    lb, rb = quadtree.assign(leaves, b)
    i, j = np.nonzero((a[:, None, 0] <= b[None, :, 2]) & (b[None, :, 0] <= a[:, None, 2])
                      & (a[:, None, 1] <= b[None, :, 3]) & (b[None, :, 1] <= a[:, None, 3]))
    rx, ry = np.maximum(a[i, 0], b[j, 0]), np.maximum(a[i, 1], b[j, 1])
    for x, y, s, t in zip(rx, ry, i, j):
        k = np.flatnonzero((leaves[:, 0] <= x) & (x < leaves[:, 2]) & (leaves[:, 1] <= y) & (y < leaves[:, 3]))
        assert len(k) == 1
        assert s in ra[la == k[0]] and t in rb[lb == k[0]]

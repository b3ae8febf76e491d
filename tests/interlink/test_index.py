"""Filtering: grid and STRtree give exactly the MBR-overlapping pairs, each once."""
import numpy as np
import pytest
import shapely

from eolinked.errors import EolinkedError
from interlink.index import (
    GridIndex,
    STRtreeIndex,
    build_index,
    make_grid,
    mbr_overlap,
    tile_counts,
)

from .linkdata import make_synthetic


def _brute(sb, tb):
    i, j = np.meshgrid(np.arange(len(sb)), np.arange(len(tb)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    ok = mbr_overlap(sb[i], tb[j])
    return set(zip(i[ok].tolist(), j[ok].tolist()))


def _random_bounds(rng, n, size):
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.exponential(size, (n, 2)) * (rng.random((n, 1)) < 0.8)  # a fifth are points
    return np.column_stack([xy, xy + wh])


@pytest.mark.parametrize("size", [0.5, 3.0, 40.0])
def test_grid_and_strtree_equal_brute_force(size):
    rng = np.random.default_rng(1)
    sb, tb = _random_bounds(rng, 400, size), _random_bounds(rng, 300, size * 2)
    tb[:3] = [[0, 0, 100, 100], [50, 50, 50, 50], sb[0]]  # one huge, one point, one identical MBR
    want = _brute(sb, tb)
    grid = make_grid(sb, tb)
    for idx in (GridIndex(grid, sb), STRtreeIndex(sb)):
        i, j = idx.query(tb)
        got = list(zip(i.tolist(), j.tolist()))
        assert len(got) == len(set(got)) and set(got) == want
        assert (np.lexsort((j, i)) == np.arange(len(i))).all()  # sorted by source then target


def test_touching_mbrs_are_candidates():
    src, tgt = make_synthetic()
    tgt = [g for g in tgt if not g.is_empty]
    sb, tb = shapely.bounds(np.array(src, dtype=object)), shapely.bounds(np.array(tgt, dtype=object))
    want = _brute(sb, tb)
    i, j = GridIndex(make_grid(sb, tb), sb).query(tb)
    assert set(zip(i.tolist(), j.tolist())) == want


def test_grid_tiles_follow_mean_source_size_and_stay_bounded():
    sb = np.array([[0, 0, 2, 1], [10, 10, 12, 11]], float)
    grid = make_grid(sb, sb)
    assert (grid.w, grid.h) == (2.0, 1.0)
    huge = np.array([[0, 0, 1e6, 1e6]] + [[x, x, x + 1e-3, x + 1e-3] for x in range(50)], float)
    grid = make_grid(huge, huge[:1])
    assert tile_counts(grid.ranges(huge)).sum() <= 16 * 52 + 1024


def test_unknown_index():
    with pytest.raises(EolinkedError, match="unknown index 'rtree'"):
        build_index("rtree", make_grid(np.zeros((1, 4)), np.zeros((1, 4))), np.zeros((1, 4)))

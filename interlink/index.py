"""Filtering: candidate pairs whose MBRs overlap (touching counts), from an equigrid or an STRtree.

The source side is indexed once; target geometries are queried in batches. Bounds are
``(n, 4)`` float arrays ``xmin, ymin, xmax, ymax``. Everything is numpy: tile ranges per
geometry, ``np.repeat`` to (tile, geometry) entries, ``searchsorted`` to join them, and the
reference-point rule (a pair is kept only in the tile holding the lower-left corner of the
intersection of the two MBRs) so each pair comes out once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from eolinked.errors import EolinkedError

INDEXES = ("grid", "strtree")
_MAX_CELLS_PER_AXIS = 1 << 30
_ENTRIES_PER_GEOMETRY = 16  # enlarge tiles when geometries would span more tiles than this on average


@dataclass(frozen=True)
class Grid:
    """An equigrid: origin, tile width/height and number of tiles per axis."""
    x0: float
    y0: float
    w: float
    h: float
    nx: int
    ny: int

    @property
    def cells(self) -> int:
        return self.nx * self.ny

    def cell(self, x: np.ndarray, axis: int) -> np.ndarray:
        """Tile column (axis 0) or row (axis 1) of coordinates, clipped to the grid."""
        origin, size, n = (self.x0, self.w, self.nx) if axis == 0 else (self.y0, self.h, self.ny)
        return np.clip(np.floor((x - origin) / size), 0, n - 1).astype(np.int64)

    def ranges(self, bounds: np.ndarray) -> np.ndarray:
        """``(n, 4)`` int64 tile ranges ``ix0, iy0, ix1, iy1`` (inclusive) of MBRs."""
        return np.column_stack([self.cell(bounds[:, 0], 0), self.cell(bounds[:, 1], 1),
                                self.cell(bounds[:, 2], 0), self.cell(bounds[:, 3], 1)])


def tile_counts(ranges: np.ndarray) -> np.ndarray:
    return (ranges[:, 2] - ranges[:, 0] + 1) * (ranges[:, 3] - ranges[:, 1] + 1)


def make_grid(source_bounds: np.ndarray, target_bounds: np.ndarray) -> Grid:
    """Grid over the joint extent; tile size = the larger of the two datasets' mean MBR width and
    height (GIA.nt's granularity, taken so that the larger geometries span few tiles), else
    extent/sqrt(n); enlarged while geometries would span too many tiles."""
    both = np.concatenate([source_bounds, target_bounds])
    if len(both) == 0:
        return Grid(0.0, 0.0, 1.0, 1.0, 1, 1)
    x0, y0 = both[:, 0].min(), both[:, 1].min()
    ex, ey = both[:, 2].max() - x0, both[:, 3].max() - y0
    sizes = []
    for axis in (0, 1):
        size = max((float(np.mean(b[:, axis + 2] - b[:, axis])) for b in (source_bounds, target_bounds) if len(b)),
                   default=0.0)
        fallback = max(ex, ey) / max(1.0, np.sqrt(len(both))) or 1.0
        sizes.append(size if size > 0 else fallback)
    w, h = sizes
    w, h = max(w, ex / _MAX_CELLS_PER_AXIS), max(h, ey / _MAX_CELLS_PER_AXIS)
    while True:
        grid = Grid(float(x0), float(y0), float(w), float(h),
                    int(min(_MAX_CELLS_PER_AXIS, ex // w + 1)), int(min(_MAX_CELLS_PER_AXIS, ey // h + 1)))
        if tile_counts(grid.ranges(both)).sum() <= _ENTRIES_PER_GEOMETRY * len(both) + 1024:
            return grid
        w, h = w * 2, h * 2


def _expand(ranges: np.ndarray, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """(tile key, geometry index) for every tile each MBR covers."""
    cols = ranges[:, 3] - ranges[:, 1] + 1
    counts = (ranges[:, 2] - ranges[:, 0] + 1) * cols
    owner = np.repeat(np.arange(len(ranges)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ix = ranges[owner, 0] + k // cols[owner]
    iy = ranges[owner, 1] + k % cols[owner]
    return ix * ny + iy, owner


def mbr_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: do the MBRs ``a[k]`` and ``b[k]`` intersect (touching included)?"""
    return (a[:, 0] <= b[:, 2]) & (b[:, 0] <= a[:, 2]) & (a[:, 1] <= b[:, 3]) & (b[:, 1] <= a[:, 3])


def _sorted_pairs(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((j, i))
    return i[order], j[order]


class GridIndex:
    """Source MBRs in an equigrid; ``query`` joins target MBRs tile by tile."""

    def __init__(self, grid: Grid, bounds: np.ndarray):
        self.grid, self.bounds = grid, bounds
        keys, idx = _expand(grid.ranges(bounds), grid.ny)
        order = np.lexsort((idx, keys))
        self.keys, self.idx = keys[order], idx[order]
        # tile -> first entry, as a dense table when the grid is not much larger than the index
        self.starts = (np.searchsorted(self.keys, np.arange(grid.cells + 1))
                       if grid.cells <= 8 * len(self.keys) + 4096 else None)

    def query(self, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(source index, target index) of overlapping MBRs, sorted, each pair once."""
        keys, owner = _expand(self.grid.ranges(bounds), self.grid.ny)
        if self.starts is not None:
            lo = self.starts[keys]
            cnt = self.starts[keys + 1] - lo
        else:
            lo = np.searchsorted(self.keys, keys, "left")
            cnt = np.searchsorted(self.keys, keys, "right") - lo
        j = np.repeat(owner, cnt)
        pos = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())
        i, tile = self.idx[pos], np.repeat(keys, cnt)
        sb, tb = self.bounds[i], bounds[j]
        ok = mbr_overlap(sb, tb)
        ref = (self.grid.cell(np.maximum(sb[:, 0], tb[:, 0]), 0) * self.grid.ny
               + self.grid.cell(np.maximum(sb[:, 1], tb[:, 1]), 1))
        ok &= ref == tile
        return _sorted_pairs(i[ok], j[ok])


class STRtreeIndex:
    """Source MBRs in a shapely STRtree (envelope queries only)."""

    def __init__(self, bounds: np.ndarray):
        self.bounds = bounds
        self.tree = shapely.STRtree(shapely.box(*bounds.T)) if len(bounds) else None

    def query(self, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.tree is None or len(bounds) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        j, i = self.tree.query(shapely.box(*bounds.T))
        ok = mbr_overlap(self.bounds[i], bounds[j])  # degenerate boxes: keep exactly the MBR rule
        return _sorted_pairs(i[ok].astype(np.int64), j[ok].astype(np.int64))


def build_index(kind: str, grid: Grid, bounds: np.ndarray):
    if kind == "grid":
        return GridIndex(grid, bounds)
    if kind == "strtree":
        return STRtreeIndex(bounds)
    raise EolinkedError(f"unknown index {kind!r}", hint="choose --index grid or --index strtree")

"""GeoSPARQL 1.1 aggregates: aggUnion, aggConvexHull, aggCentroid, aggBoundingBox, aggBoundingCircle,
aggConcaveHull.

``fn(values: pa.ListArray of N-Triples text, separator=None) -> Terms``, one result per list, a
geo:wktLiteral in the CRS of the list's first geometry (the others are reprojected to it).
Unbound (null) members are skipped; a member that is not a readable geometry literal makes
the group's result an error, as does a group without geometries.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from eolinked.terms import from_nt
from eolinked.vocab import GEOF

from ._core import Geoms, geometries, safe, to_crs, wkt_terms

_PADDED_LIMIT = 20_000_000  # cells of the groups x members matrix aggUnion may allocate


def _members(values) -> tuple[Geoms, np.ndarray, int, np.ndarray]:
    """(member geometries in their group's CRS, group index, group count, group is usable)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    flat = values.flatten()
    parent = pc.list_parent_indices(values).to_numpy(zero_copy_only=False)
    present = flat.is_valid().to_numpy(zero_copy_only=False)
    G = geometries(from_nt(flat))
    bad = np.zeros(n, bool)
    bad[parent[present & ~G.ok]] = True
    keep = G.ok
    groups, first = np.unique(parent[keep], return_index=True)
    target = np.full(n, None, object)
    target[groups] = G.crs[keep][first]
    G = to_crs(Geoms(G.geom[keep], G.crs[keep]), target[parent[keep]])
    usable = np.zeros(n, bool)
    usable[groups] = True
    bad[parent[keep][~G.ok]] = True
    return G, parent[keep], n, usable & ~bad


def _collections(G: Geoms, group: np.ndarray, n: int, usable: np.ndarray) -> np.ndarray:
    sel = usable[group]
    out = np.full(n, None, object)
    if sel.any():
        ids, dense = np.unique(group[sel], return_inverse=True)
        out[ids] = shapely.geometrycollections(G.geom[sel], indices=dense)
    return out


def _first_crs(G: Geoms, group: np.ndarray, n: int) -> np.ndarray:
    crs = np.full(n, None, object)
    groups, first = np.unique(group, return_index=True)
    crs[groups] = G.crs[first]
    return crs


def _union(G: Geoms, group: np.ndarray, n: int, usable: np.ndarray) -> np.ndarray:
    sel = usable[group]
    out = np.full(n, None, object)
    if not sel.any():
        return out
    ids, dense, counts = np.unique(group[sel], return_inverse=True, return_counts=True)
    order = np.argsort(dense, kind="stable")
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    if len(ids) * counts.max() <= _PADDED_LIMIT:
        grid = np.full((len(ids), counts.max()), None, object)
        grid[dense[order], rank] = G.geom[sel][order]
        out[ids] = safe(lambda m: shapely.union_all(m, axis=1), grid) if len(ids) else []
    else:  # documented fallback: very unequal group sizes, one union per group
        members = G.geom[sel][order]
        for i, (start, count) in enumerate(zip(np.cumsum(counts) - counts, counts)):
            out[ids[i]] = shapely.union_all(members[start:start + count])
    return out


def _aggregate(fn):
    def agg(values, separator=None):
        G, group, n, usable = _members(values)
        crs = _first_crs(G, group, n)
        geom = _union(G, group, n, usable) if fn is None else \
            _apply(fn, _collections(G, group, n, usable))
        return wkt_terms(Geoms(geom, np.where(shapely.is_missing(geom), None, crs)))
    return agg


def _apply(fn, collections: np.ndarray) -> np.ndarray:
    ok = ~shapely.is_missing(collections)
    out = np.full(len(collections), None, object)
    if ok.any():
        out[ok] = safe(fn, collections[ok])
    return out


AGGREGATES = {
    GEOF + "aggUnion": _aggregate(None),
    GEOF + "aggConvexHull": _aggregate(shapely.convex_hull),
    GEOF + "aggCentroid": _aggregate(shapely.centroid),
    GEOF + "aggBoundingBox": _aggregate(shapely.envelope),
    GEOF + "aggBoundingCircle": _aggregate(shapely.minimum_bounding_circle),
    GEOF + "aggConcaveHull": _aggregate(shapely.concave_hull),
}

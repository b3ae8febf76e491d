"""Linking one partition: candidates -> verification -> links, on arrays.

``verify_pairs`` is what every engine runs on its share of candidate pairs;
``link_tables`` wraps filtering and verification for one partition given as Arrow tables
(``id`` string + ``geometry`` WKB, both already in one CRS), the shape a Spark
``mapInArrow`` job hands over. With ``extent`` (the partition's box) a pair is kept only
when the reference point (lower-left corner of the two MBRs' intersection) falls in it, so
pairs seen by several partitions come out once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely

from . import distance as dist
from .index import build_index, make_grid
from .verify import RELATIONS, holds, matrix_strings, relate
from .writer import WITHIN_DISTANCE


@dataclass(frozen=True)
class LinkSpec:
    """What to look for: relation names, or pairs within ``distance`` metres."""
    relations: tuple[str, ...] = tuple(RELATIONS)
    distance: float | None = None
    geographic: bool = False
    unit: float = 1.0          # metres per CRS unit (projected CRS)
    crs: str | None = None     # the common CRS (IRI, else WKT) distances are measured in

    @property
    def names(self) -> tuple[str, ...]:
        return ("withinDistance",) if self.distance is not None else self.relations

    @property
    def predicates(self) -> list[str]:
        return [WITHIN_DISTANCE] if self.distance is not None else [RELATIONS[n] for n in self.relations]

    def query_bounds(self, bounds: np.ndarray) -> np.ndarray:
        """Target MBRs as the filter sees them (grown by the distance margin in distance mode)."""
        if self.distance is None:
            return bounds
        return dist.expand(bounds, self.distance, self.geographic, self.unit)


@dataclass
class Verified:
    """Verified pairs: indices, which relations hold (n, k), DE-9IM characters or distances."""
    i: np.ndarray
    j: np.ndarray
    holds: np.ndarray
    codes: np.ndarray | None = None
    distance: np.ndarray | None = None

    def take(self, sel) -> Verified:
        return Verified(self.i[sel], self.j[sel], self.holds[sel],
                        None if self.codes is None else self.codes[sel],
                        None if self.distance is None else self.distance[sel])

    @property
    def linked(self) -> np.ndarray:
        return self.holds.any(axis=1)

    @staticmethod
    def concat(parts: list[Verified], k: int) -> Verified:
        if not parts:
            return Verified(np.empty(0, np.int64), np.empty(0, np.int64), np.zeros((0, k), bool))

        def cat(name):
            values = [getattr(p, name) for p in parts]
            return None if values[0] is None else np.concatenate(values)
        return Verified(cat("i"), cat("j"), cat("holds"), cat("codes"), cat("distance"))


def verify_pairs(source_geoms: np.ndarray, target_geoms: np.ndarray, i: np.ndarray, j: np.ndarray,
                 spec: LinkSpec) -> Verified:
    """One DE-9IM matrix per pair (or one distance in distance mode), all relations from it."""
    a, b = source_geoms[i], target_geoms[j]
    if spec.distance is not None:
        d = dist.distances(a, b, spec.crs)
        return Verified(i, j, (d <= spec.distance)[:, None], distance=d)
    codes = relate(a, b)
    return Verified(i, j, holds(codes, shapely.get_dimensions(a), shapely.get_dimensions(b), spec.relations), codes)


def link_tables(source: pa.Table, target: pa.Table, spec: LinkSpec, index: str = "grid",
                extent: tuple[float, float, float, float] | None = None) -> pa.Table:
    """Links between the features of one partition as a table: source, target, predicate,
    de9im (null in distance mode), distance (metres; null in relation mode)."""
    sg = shapely.from_wkb(source.column("geometry").to_numpy(zero_copy_only=False))
    tg = shapely.from_wkb(target.column("geometry").to_numpy(zero_copy_only=False))
    sb, tb = shapely.bounds(sg), spec.query_bounds(shapely.bounds(tg))
    idx = build_index(index, make_grid(sb, tb), sb)
    i, j = idx.query(tb)
    if extent is not None:
        rx, ry = np.maximum(sb[i, 0], tb[j, 0]), np.maximum(sb[i, 1], tb[j, 1])
        keep = (rx >= extent[0]) & (rx < extent[2]) & (ry >= extent[1]) & (ry < extent[3])
        i, j = i[keep], j[keep]
    return long_table(verify_pairs(sg, tg, i, j, spec), spec,
                      source.column("id").combine_chunks(), target.column("id").combine_chunks())


def long_table(v: Verified, spec: LinkSpec, source_ids: pa.Array, target_ids: pa.Array) -> pa.Table:
    """One row per link: source IRI, target IRI, predicate IRI, DE-9IM, distance."""
    rows, cols = np.nonzero(v.holds)
    n = len(rows)
    de9im = pa.array(matrix_strings(v.codes[rows]), pa.string()) if v.codes is not None else pa.nulls(n, pa.string())
    metres = pa.array(v.distance[rows]) if v.distance is not None else pa.nulls(n, pa.float64())
    return pa.table({"source": source_ids.take(pa.array(v.i[rows])), "target": target_ids.take(pa.array(v.j[rows])),
                     "predicate": pa.array(spec.predicates, pa.string()).take(pa.array(cols)),
                     "de9im": de9im, "distance": metres})

"""Geometry columns of a batch: decoded once (WKB, WKT literals or GeoJSON), checked, reprojected."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from eolinked import crs as crslib
from eolinked import literals
from eolinked.errors import EolinkedError
from eolinked.vocab import WKT_LITERAL

INVALID_POLICIES = ("repair", "skip", "fail")


def _present(col: pa.Array) -> np.ndarray:
    """Boolean numpy mask of non-null entries."""
    return col.is_valid().to_numpy(zero_copy_only=False)


class GeometryColumn:
    """Decodes and caches the geometries a batch's references hold."""

    WKT = WKT_LITERAL

    def __init__(self, table: pa.Table, geometry_columns, source_crs, target_crs, invalid: str,
                 where: str, offset: int, report: dict, describe=None):
        self.table = table
        self.names = frozenset(geometry_columns)
        self.source_crs = source_crs
        self.target_crs = target_crs
        self.invalid = invalid
        self.where = where
        self.offset = offset
        self.report = report
        self.describe = describe or (lambda record: f"record {record}")  # names a 1-based record
        self._cache: dict[str, tuple[np.ndarray, object]] = {}

    def is_geometry_ref(self, ref: str) -> bool:
        return ref in self.names

    def geoms(self, ref: str):
        """(shapely array in x/y order, its pyproj CRS) for a referenced column."""
        if ref not in self._cache:
            col = self.table.column(ref).combine_chunks()
            if pa.types.is_list(col.type):  # JSON: a reference may select several values
                col = self._one_per_record(col, ref)
            geoms, crs = self.decode(col)
            self._cache[ref] = (geoms, crs)
        return self._cache[ref]

    def _one_per_record(self, col: pa.Array, ref: str) -> pa.Array:
        lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
        if (lengths > 1).any():
            record = self.offset + int(np.flatnonzero(lengths > 1)[0]) + 1
            raise EolinkedError(f"reference {ref!r} selects {int(lengths.max())} geometries in record {record}",
                                where=self.where, hint="a geometry function takes one geometry per record")
        values = pc.list_flatten(col)
        rows = pc.list_parent_indices(col).to_numpy()
        out = np.full(len(col), None, dtype=object)
        out[rows] = values.to_numpy(zero_copy_only=False)
        return pa.array(out, values.type)

    def decode(self, col: pa.Array):
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            data = np.asarray(col.to_numpy(zero_copy_only=False))
            geoms = shapely.from_wkb(data, on_invalid="ignore")
            self._unreadable(geoms, _present(col), "WKB", lambda i: shapely.from_wkb(data[i:i + 1]))
            crs = self.source_crs
        else:
            geoms, crs = self._decode_text(col.cast(pa.string()))
        geoms = self._check(geoms)
        if self.target_crs is not None and crs is not None and not crs.equals(self.target_crs):
            geoms = crslib.reproject(geoms, crs, self.target_crs)
            crs = self.target_crs
        return geoms, crs if crs is not None else crslib.iri_to_crs(crslib.CRS84_IRI)

    def _decode_text(self, col: pa.Array):
        is_json = pc.fill_null(pc.starts_with(pc.utf8_ltrim_whitespace(col), "{"), False)
        present = _present(col)
        if pc.any(is_json).as_py():
            if not pc.all(pc.or_(is_json, pc.is_null(col))).as_py():
                raise EolinkedError("a geometry column mixes GeoJSON and WKT", where=self.where)
            geoms = literals.parse_geojson_literals(col, on_invalid="null")
            self._unreadable(geoms, present, "GeoJSON", lambda i: literals.parse_geojson_literals(col.slice(i, 1)))
            return geoms, crslib.iri_to_crs(crslib.CRS84_IRI)
        geoms, iris = literals.parse_wkt_literals(col, on_invalid="null")
        self._unreadable(geoms, present, "WKT", lambda i: literals.parse_wkt_literals(col.slice(i, 1)))
        iris = pa.array(iris, pa.string()) if not isinstance(iris, pa.Array) else iris
        distinct = [i for i in pc.unique(iris).to_pylist() if i is not None]
        if not distinct:
            return geoms, self.source_crs
        if len(distinct) == 1 and self.source_crs is not None and distinct[0] == crslib.CRS84_IRI:
            # no IRI in the text: the source's declared CRS applies
            return geoms, self.source_crs
        target = crslib.iri_to_crs(distinct[0])
        for iri in distinct[1:]:
            sel = pc.equal(iris, iri).to_numpy(zero_copy_only=False)
            geoms[sel] = crslib.reproject(geoms[sel], crslib.iri_to_crs(iri), target)
        return geoms, target

    def _unreadable(self, geoms: np.ndarray, present: np.ndarray, kind: str, parse_one) -> None:
        """Text that is no geometry (or names an unknown CRS): --invalid skip leaves the record's
        geometry out (counted); repair cannot repair text and fails like fail, naming the record."""
        bad = present & shapely.is_missing(geoms)
        if not bad.any():
            return
        first = int(np.flatnonzero(bad)[0])
        record = self.offset + first + 1
        if self.invalid == "skip":
            self.report["unreadable"] = self.report.get("unreadable", 0) + int(bad.sum())
            self.report["first_unreadable_record"] = min(self.report.get("first_unreadable_record", record), record)
            return
        try:
            parse_one(first)
            why = f"not a {kind} geometry"
        except EolinkedError as exc:
            why = exc.message.replace(" at index 0:", "")
        except Exception as exc:  # shapely's GEOSException
            why = str(exc)
        more = f" ({int(bad.sum()) - 1} more in this batch)" if bad.sum() > 1 else ""
        raise EolinkedError(f"unreadable {kind} in {self.describe(record)}: {why}{more}", where=self.where,
                            hint=f"fix the {kind}, or run with --invalid skip to leave such records' geometry out")

    def _check(self, geoms: np.ndarray) -> np.ndarray:
        present = ~shapely.is_missing(geoms)
        invalid = present & ~shapely.is_valid(geoms)
        if not invalid.any():
            return geoms
        first = int(np.flatnonzero(invalid)[0])
        if self.invalid == "fail":
            reason = shapely.is_valid_reason(geoms[first])
            raise EolinkedError(f"invalid geometry in {self.describe(self.offset + first + 1)}: {reason}",
                                where=self.where,
                                hint="run with --invalid repair (make_valid) or --invalid skip")
        geoms = geoms.copy()
        count = int(invalid.sum())
        if self.invalid == "repair":
            geoms[invalid] = shapely.make_valid(geoms[invalid])
        else:
            geoms[invalid] = None
        self.report[self.invalid] = self.report.get(self.invalid, 0) + count
        self.report.setdefault("first_invalid_record", self.offset + first + 1)
        return geoms

    def wkt_lexical(self, ref: str) -> pa.Array:
        geoms, crs = self.geoms(ref)
        return literals.wkt_literals(geoms, crs)

"""Vector geodata (Shapefile, GeoPackage, GeoJSON, FlatGeobuf, GeoParquet) as an RML logical source."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from eolinked.crs import normalise_source_crs, reproject
from eolinked.vectorio import ALIASES, GEOMETRY, read_vector, vector_info

from .base import ROW_REFS, Batch, Source


class VectorSource(Source):
    """A vector layer as a logical source: references are attribute names or a geometry alias."""

    geometry_columns = frozenset({GEOMETRY})

    def __init__(self, path: str, layer: str | None = None, encoding: str | None = None):
        self.path = path
        self.info = vector_info(path, layer)
        self.layer = self.info.layer
        self.encoding = encoding
        self.feature_count = self.info.feature_count
        self.source_crs = self.info.crs
        self.crs, self._reproject, self.note = normalise_source_crs(self.info.crs)
        if self.note and self._reproject:
            self.note = f"{path}: {self.note}"

    def columns(self) -> list[str]:
        return list(self.info.fields) + [a for a in ALIASES if self.resolve(a) == GEOMETRY] + \
            ([self.info.geometry_name] if self.info.geometry_name else [])

    def resolve(self, ref: str) -> str:
        if ref in self.info.fields:
            return ref
        if ref in ALIASES or ref == self.info.geometry_name:
            return GEOMETRY
        return ref

    def batches(self, refs, batch_size):
        return self.read_partition((0, None), refs, batch_size)

    def partitions(self, parts, batch_size):
        """Feature ranges, each read on its own by a worker."""
        total = self.feature_count
        size = max(batch_size, -(-total // max(parts, 1)))
        return [(start, size) for start in range(0, total, size)] or None

    def read_partition(self, spec, refs, batch_size):
        skip, count = spec
        offset = skip
        for table in read_vector(self.path, self.layer, self.attributes(refs), batch_size, skip_features=skip,
                                 max_features=count, encoding=self.encoding):
            yield self.batch(table, refs, offset)
            offset += table.num_rows

    def attributes(self, refs) -> list[str]:
        """The file's attributes that ``refs`` read (geometry aside)."""
        return sorted({self.resolve(r) for r in refs} - {GEOMETRY})

    def batch(self, table: pa.Table, refs, offset: int) -> Batch:
        """A batch from a table of attributes + WKB ``geometry`` read from this layer."""
        if self._reproject:
            table = self._to_crs84(table)
        cols = {r: table.column(self.resolve(r)) for r in refs if r not in ROW_REFS}  # ROW comes from the offset
        return Batch(pa.table(cols) if cols else pa.table({"__n": pa.nulls(table.num_rows)}), offset)

    def _to_crs84(self, table: pa.Table) -> pa.Table:
        geoms = shapely.from_wkb(np.asarray(table.column(GEOMETRY).to_numpy(zero_copy_only=False)))
        wkb = shapely.to_wkb(reproject(geoms, self.source_crs, self.crs), flavor="iso")
        return table.set_column(table.column_names.index(GEOMETRY), GEOMETRY, pa.array(wkb, pa.binary()))

"""Vector geodata (Shapefile, GeoPackage, GeoJSON, FlatGeobuf, ... via pyogrio; GeoParquet via pyarrow)
read in Arrow batches, geometry as ISO WKB in a column named ``geometry``."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj

from eolinked.crs import normalise_source_crs, reproject
from eolinked.errors import EolinkedError

from .base import Batch, Source

GEOMETRY = "geometry"
ALIASES = ("the_geom", "geometry", "geom", "wkb_geometry", "shape")


@dataclass
class VectorInfo:
    path: str
    layer: str | None
    crs: pyproj.CRS | None
    fields: dict[str, pa.DataType]
    geometry_type: str
    feature_count: int
    geometry_name: str | None


def _is_parquet(path: str) -> bool:
    return path.lower().endswith((".parquet", ".geoparquet"))


def list_layers(path: str) -> list[str]:
    if _is_parquet(path):
        return [os.path.splitext(os.path.basename(path))[0]]
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def _geo_meta(path: str) -> dict:
    meta = pq.read_schema(path).metadata or {}
    if b"geo" not in meta:
        raise EolinkedError("Parquet file has no GeoParquet 'geo' metadata", where=path,
                            hint="write it as GeoParquet (geopandas to_parquet, or GDAL's Parquet driver)")
    geo = json.loads(meta[b"geo"])
    column = geo["primary_column"]
    spec = geo["columns"][column]
    if spec.get("encoding", "WKB").upper() != "WKB":
        raise EolinkedError(f"GeoParquet geometry encoding {spec['encoding']!r} is not supported", where=path,
                            hint="write the geometry column as WKB")
    return {"column": column, "crs": pyproj.CRS.from_json_dict(spec["crs"]) if spec.get("crs") else
            pyproj.CRS("OGC:CRS84"), "types": spec.get("geometry_types", [])}


def vector_info(path: str, layer: str | None = None) -> VectorInfo:
    """Layer, CRS, attribute types, geometry type and feature count of a vector file."""
    _exists(path)
    if _is_parquet(path):
        geo = _geo_meta(path)
        schema = pq.read_schema(path)
        fields = {f.name: f.type for f in schema if f.name != geo["column"]}
        return VectorInfo(path, list_layers(path)[0], geo["crs"], fields, ",".join(geo["types"]) or "Unknown",
                          pq.ParquetFile(path).metadata.num_rows, geo["column"])
    layer = _check_layer(path, layer)
    try:
        info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except Exception as exc:
        raise EolinkedError(f"cannot read: {exc}", where=path, hint="is it a vector file GDAL can open?") from None
    with pyogrio.open_arrow(path, layer=layer, max_features=0, use_pyarrow=True) as (meta, reader):
        schema = reader.schema
    geom_name = meta.get("geometry_name") or "wkb_geometry"
    fields = {f.name: f.type for f in schema if f.name != geom_name}
    crs = pyproj.CRS(info["crs"]) if info.get("crs") else None
    return VectorInfo(path, layer, crs, fields, info.get("geometry_type") or "Unknown",
                      int(info.get("features") or 0), geom_name)


def _exists(path: str) -> None:
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path")


def _check_layer(path: str, layer: str | None) -> str | None:
    layers = list_layers(path)
    if layer is None:
        return layers[0] if layers else None
    if layer not in layers:
        raise EolinkedError(f"no layer {layer!r}", where=path, hint="layers: " + ", ".join(layers))
    return layer


def read_vector(path: str, layer: str | None = None, columns: list[str] | None = None, batch_size: int = 65536,
                skip_features: int = 0, max_features: int | None = None, encoding: str | None = None):
    """Yield Arrow tables of the chosen attributes plus ``geometry`` (ISO WKB), in file order."""
    _exists(path)
    if _is_parquet(path):
        yield from _read_parquet(path, columns, batch_size, skip_features, max_features)
        return
    layer = _check_layer(path, layer)
    kw = {"encoding": encoding} if encoding else {}
    try:
        with pyogrio.open_arrow(path, layer=layer, columns=columns, batch_size=batch_size,
                                skip_features=skip_features, max_features=max_features, use_pyarrow=True,
                                **kw) as (meta, reader):
            name = meta.get("geometry_name") or "wkb_geometry"
            for rb in reader:
                table = pa.Table.from_batches([rb])
                if name in table.column_names:
                    idx = table.column_names.index(name)
                    table = table.set_column(idx, GEOMETRY, table.column(name).cast(pa.binary()))
                yield table
    except EolinkedError:
        raise
    except Exception as exc:  # GDAL errors
        raise EolinkedError(f"cannot read: {exc}", where=path, hint="is the file complete and readable by GDAL?") from None


def _read_parquet(path, columns, batch_size, skip, max_features):
    geo = _geo_meta(path)
    cols = None if columns is None else [c for c in columns if c != geo["column"]] + [geo["column"]]
    seen, remaining = 0, max_features
    for rb in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=cols):
        table = pa.Table.from_batches([rb])
        if seen + table.num_rows <= skip:
            seen += table.num_rows
            continue
        if seen < skip:
            table = table.slice(skip - seen)
        seen += rb.num_rows
        if remaining is not None:
            table = table.slice(0, remaining)
            remaining -= table.num_rows
        idx = table.column_names.index(geo["column"])
        yield table.set_column(idx, GEOMETRY, table.column(geo["column"]).cast(pa.binary()))
        if remaining is not None and remaining <= 0:
            return


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
        attrs = sorted({self.resolve(r) for r in refs} - {GEOMETRY})
        offset = 0
        for table in read_vector(self.path, self.layer, attrs, batch_size, encoding=self.encoding):
            if self._reproject and GEOMETRY in table.column_names:
                table = self._to_crs84(table)
            yield Batch(pa.table({r: table.column(self.resolve(r)) for r in refs}) if refs else
                        pa.table({"__n": pa.nulls(table.num_rows)}), offset)
            offset += table.num_rows

    def _to_crs84(self, table: pa.Table) -> pa.Table:
        import numpy as np
        import shapely

        geoms = shapely.from_wkb(np.asarray(table.column(GEOMETRY).to_numpy(zero_copy_only=False)))
        wkb = shapely.to_wkb(reproject(geoms, self.source_crs, self.crs), flavor="iso")
        return table.set_column(table.column_names.index(GEOMETRY), GEOMETRY, pa.array(wkb, pa.binary()))

"""Vector geodata (anything GDAL/OGR opens, plus GeoParquet) read in bounded Arrow batches.

Every batch holds the requested attributes and a ``geometry`` column of ISO WKB (null when missing).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
from pyogrio.errors import DataLayerError, DataSourceError

from eolinked.errors import EolinkedError

GEOMETRY = "geometry"
ALIASES = ("the_geom", "geometry", "geom", "wkb_geometry", "shape")
_PARQUET = (".parquet", ".geoparquet")
_CRS84 = "OGC:CRS84"


@dataclass
class VectorInfo:
    path: str
    layer: str | None
    crs: pyproj.CRS | None
    fields: dict[str, pa.DataType]  # file order, geometry excluded
    geometry_type: str
    feature_count: int
    geometry_name: str | None  # the file's own name for the geometry column


def _is_parquet(path) -> bool:
    return str(path).lower().endswith(_PARQUET)


def _check_exists(path: str) -> None:
    if not path.startswith("/vsi") and "://" not in path and not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path (relative to the working directory)")


def _gdal_error(path: str, exc: Exception) -> EolinkedError:
    return EolinkedError(f"cannot read vector data: {exc}", where=path,
                         hint="is this a vector format GDAL can open (Shapefile, GeoPackage, GeoJSON, "
                              "FlatGeobuf, OSM PBF, ...)?")


def list_layers(path) -> list[str]:
    """Layer names of a vector file (GeoParquet has one layer, named after the file)."""
    path = os.fspath(path)
    _check_exists(path)
    if _is_parquet(path):
        return [os.path.splitext(os.path.basename(path))[0]]
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise _gdal_error(path, exc) from None


def _resolve_layer(path: str, layer) -> str:
    layers = list_layers(path)
    if layer is None:
        if not layers:
            raise EolinkedError("the file holds no layers", where=path)
        return layers[0]
    if isinstance(layer, int) and 0 <= layer < len(layers):
        return layers[layer]
    if str(layer) not in layers:
        raise EolinkedError(f"no layer {layer!r}", where=path, hint="available layers: " + ", ".join(layers))
    return str(layer)


def vector_info(path, layer=None) -> VectorInfo:
    """Layer, CRS, attribute types, geometry type and feature count of a vector file."""
    return _info(os.fspath(path), layer, count=True)


def _info(path: str, layer, count: bool, encoding: str | None = None) -> VectorInfo:
    """As vector_info; without ``count`` the feature count is -1 (counting may scan the file, e.g. OSM)."""
    layer = _resolve_layer(path, layer)
    if _is_parquet(path):
        return _parquet_info(path, layer)
    try:
        features = pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"] if count else -1
        with pyogrio.open_arrow(path, layer=layer, batch_size=1, encoding=encoding,
                                use_pyarrow=True) as (meta, reader):
            schema = reader.schema
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise _gdal_error(path, exc) from None
    geom = _gdal_geometry_column(meta, schema)
    fields = {f.name: f.type for f in schema if f.name != geom}
    return VectorInfo(path, layer, pyproj.CRS.from_user_input(meta["crs"]) if meta["crs"] else None, fields,
                      meta["geometry_type"] or "Unknown", int(features), meta["geometry_name"] or None)


def _gdal_geometry_column(meta, schema) -> str | None:
    name = meta["geometry_name"] or "wkb_geometry"
    return name if name in schema.names else None


def _check_columns(path, columns, fields) -> list[str] | None:
    if columns is None:
        return None
    columns = list(dict.fromkeys(columns))
    missing = [c for c in columns if c not in fields]
    if missing:
        raise EolinkedError(f"no attribute {', '.join(map(repr, missing))}", where=path,
                            hint="attributes: " + ", ".join(fields))
    return columns


def as_feature_table(table: pa.Table, geom: str | None, columns: list[str]) -> pa.Table:
    """Attributes in the asked order plus a plain-binary ``geometry`` column."""
    if geom is None:
        wkb = pa.nulls(table.num_rows, pa.binary())
    else:
        wkb = table.column(geom)
        if wkb.type != pa.binary():
            wkb = wkb.cast(pa.binary())
    out = table.select(columns)
    if GEOMETRY in out.column_names:
        raise EolinkedError(f"an attribute is named {GEOMETRY!r}, which clashes with the geometry column",
                            hint="rename the attribute in the source file")
    return out.append_column(pa.field(GEOMETRY, pa.binary()), wkb)


def read_vector(path, layer=None, columns=None, batch_size: int = 65536, skip_features: int = 0,
                max_features: int | None = None, encoding: str | None = None) -> Iterator[pa.Table]:
    """Yield tables of at most ``batch_size`` features in file order: attributes + ISO WKB ``geometry``.

    Always yields at least one (possibly empty) table. File, layer and columns are checked at once.
    """
    path = os.fspath(path)
    info = _info(path, layer, count=False, encoding=encoding)
    names = _check_columns(path, columns, info.fields) or ([] if columns is not None else list(info.fields))
    if max_features is not None:
        batch_size = max(1, min(batch_size, max_features))
    return _read(path, info, names, batch_size, skip_features, max_features, encoding)


def _read(path, info, names, batch_size, skip_features, max_features, encoding):
    if _is_parquet(path):
        tables = _parquet_tables(path, info, names, batch_size, skip_features)
    else:
        tables = _gdal_tables(path, info.layer, names, batch_size, skip_features, encoding)
    left = max_features
    empty = True
    for table in tables:
        if left is not None:
            table = table.slice(0, left)
            left -= table.num_rows
        if table.num_rows or empty:
            empty = False
            yield table
        if left == 0:
            break
    if empty:
        yield as_feature_table(pa.table({n: pa.array([], t) for n, t in info.fields.items()}), None, names)


def _gdal_tables(path, layer, names, batch_size, skip, encoding):
    # max_features is not supported for Arrow streams: the caller stops early instead
    try:
        with pyogrio.open_arrow(path, layer=layer, columns=names, batch_size=batch_size, skip_features=skip,
                                encoding=encoding, use_pyarrow=True) as (meta, reader):
            geom = _gdal_geometry_column(meta, reader.schema)
            for rb in reader:
                yield as_feature_table(pa.Table.from_batches([rb]), geom, names)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise _gdal_error(path, exc) from None


# --- GeoParquet (read with pyarrow: this GDAL build has no Parquet driver) ---

def _geo_metadata(path: str, schema: pa.Schema) -> dict:
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        raise EolinkedError("Parquet file without GeoParquet 'geo' metadata", where=path,
                            hint="write it as GeoParquet (e.g. GeoDataFrame.to_parquet) or convert it to "
                                 "GeoPackage/FlatGeobuf")
    geo = json.loads(raw)
    primary = geo.get("primary_column")
    column = geo.get("columns", {}).get(primary)
    if column is None or primary not in schema.names:
        raise EolinkedError(f"GeoParquet primary column {primary!r} is not in the file", where=path)
    if str(column.get("encoding", "")).upper() != "WKB":
        raise EolinkedError(f"GeoParquet geometry encoding {column.get('encoding')!r} is not supported",
                            where=path, hint="write the file with WKB geometry encoding "
                                             "(e.g. to_parquet(geometry_encoding='WKB'))")
    return geo


def _open_uri(uri: str):
    """A file named by a URI (file://, hdfs://, s3:// or s3a://) through pyarrow's file systems."""
    import pyarrow.fs

    fs, inner = pyarrow.fs.FileSystem.from_uri(uri.replace("s3a://", "s3://", 1))
    return fs.open_input_file(inner)


def _parquet_info(path: str, layer: str) -> VectorInfo:
    try:
        pf = pq.ParquetFile(_open_uri(path) if "://" in path else path)
    except (pa.ArrowException, OSError) as exc:
        raise EolinkedError(f"cannot read Parquet file: {exc}", where=path) from None
    schema = pf.schema_arrow
    geo = _geo_metadata(path, schema)
    primary = geo["primary_column"]
    column = geo["columns"][primary]
    crs_json = column.get("crs", _CRS84)  # absent means OGC:CRS84; explicit null means unknown
    crs = None if crs_json is None else pyproj.CRS.from_user_input(crs_json)
    bbox = column.get("covering", {}).get("bbox", {}).get("xmin", [None])[0]
    fields = {f.name: f.type for f in schema if f.name not in (primary, bbox)}
    types = column.get("geometry_types") or []
    return VectorInfo(path, layer, crs, fields, types[0] if len(types) == 1 else "Unknown",
                      pf.metadata.num_rows, primary)


def _parquet_tables(path, info: VectorInfo, names, batch_size, skip):
    pf = pq.ParquetFile(path)
    groups, before = [], 0
    for i in range(pf.metadata.num_row_groups):  # skip whole row groups without reading them
        rows = pf.metadata.row_group(i).num_rows
        if not groups and before + rows <= skip:
            before += rows
        else:
            groups.append(i)
    skip -= before
    if not groups:
        return
    for rb in pf.iter_batches(batch_size=batch_size, row_groups=groups, columns=names + [info.geometry_name]):
        table = pa.Table.from_batches([rb])
        if skip:
            drop = min(skip, table.num_rows)
            table, skip = table.slice(drop), skip - drop
        if table.num_rows:
            yield as_feature_table(table, info.geometry_name, names)

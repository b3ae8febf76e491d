"""Classification rasters polygonised into regions, strip by strip in bounded memory.

Each strip of rows is polygonised in pixel space (x = column, y = row, exact integer corners).
Regions touching a strip's bottom row stay *open*: their parts are kept and, with the next strip,
joined by a union-find over pixel contacts across the border (same value; connectivity 4 or 8).
A region is emitted once no part of it reaches the current strip's bottom row; its parts are
unioned and mapped to the raster CRS with the same formula GDAL uses, so the output equals
polygonising the whole raster at once.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import rasterio
import shapely
from affine import Affine
from rasterio import features
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from eolinked.crs import normalise_source_crs, reproject
from eolinked.errors import EolinkedError

from .base import ROW_REFS, Batch, Source

GEOMETRY = "geometry"
SCHEMA = pa.schema([("region", pa.string()), ("value", pa.int64()), ("pixel_count", pa.int64()),
                    (GEOMETRY, pa.binary())])
_STRIP_BYTES = 64 << 20
_SHAPES_DTYPES = ("uint8", "uint16", "int16", "int32")  # what GDAL polygonize takes as is


@dataclass
class RasterInfo:
    path: str
    crs: pyproj.CRS | None
    transform: Affine
    width: int
    height: int
    dtype: str
    nodata: float | None
    count: int  # bands


def _open(path):
    path = os.fspath(path)
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path (relative to the working directory)")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise EolinkedError(f"cannot read raster: {exc}", where=path,
                            hint="expected a GeoTIFF (or other GDAL raster) of class codes") from None


def raster_info(path) -> RasterInfo:
    path = os.fspath(path)
    with _open(path) as ds:
        crs = pyproj.CRS.from_wkt(ds.crs.to_wkt()) if ds.crs else None
        return RasterInfo(path, crs, ds.transform, ds.width, ds.height, ds.dtypes[0], ds.nodata, ds.count)


def read_raster_classes(path, band: int = 1, batch_size: int = 65536, connectivity: int = 4,
                        strip_rows: int | None = None, skip_values=None) -> Iterator[pa.Table]:
    """Yield tables (region, value, pixel_count, geometry WKB) of the raster's connected class regions.

    ``region`` is ``r{row}c{col}`` of the region's first pixel in row-major order; nodata pixels
    and pixels whose value is in ``skip_values`` belong to no region.
    """
    path = os.fspath(path)
    if connectivity not in (4, 8):
        raise EolinkedError(f"connectivity must be 4 or 8, not {connectivity!r}", where=path)
    info = raster_info(path)
    if not 1 <= band <= info.count:
        raise EolinkedError(f"no band {band}", where=path, hint=f"the raster has {info.count} band(s)")
    return _read(path, band, batch_size, connectivity, strip_rows, skip_values)


def _read(path, band, batch_size, connectivity, strip_rows, skip_values):
    with _open(path) as ds:
        width, height = ds.width, ds.height
        if strip_rows is None:
            itemsize = np.dtype(ds.dtypes[band - 1]).itemsize
            strip_rows = max(1, _STRIP_BYTES // max(1, width * (itemsize + 1)))
        state = _Open.empty(width)
        out = _Batcher(batch_size)
        skip = None if skip_values is None else np.asarray(list(skip_values), dtype=np.int64)
        for r0 in range(0, height, strip_rows):
            h = min(strip_rows, height - r0)
            window = Window(0, r0, width, h)
            data = ds.read(band, window=window)
            valid = ds.read_masks(band, window=window) != 0
            closed, state = _strip(path, data, valid, skip, r0, state, connectivity, last=r0 + h >= height)
            yield from out.add(_emit(closed, width, ds.transform, connectivity))
        yield from out.flush()


@dataclass
class _Open:
    """Regions still reaching the last strip's bottom row, and that row's contacts."""

    value: np.ndarray  # per open region
    count: np.ndarray
    first: np.ndarray  # row-major index of the first pixel
    parts: np.ndarray  # shapely polygons (pixel space)
    part_region: np.ndarray  # open region of each part
    labels: np.ndarray  # per column of the bottom row: open region, or -1
    row: np.ndarray  # bottom-row class values (int64)
    top: np.ndarray | None = None  # per column of the top row: open region, or -1 (strips read apart)
    top_row: np.ndarray | None = None

    @classmethod
    def empty(cls, width):
        z = np.zeros(0, np.int64)
        return cls(z, z, z, np.empty(0, object), z, np.full(width, -1), np.zeros(width, np.int64))


def _class_codes(path, data, valid, skip):
    """(array GDAL can polygonise, lookup code -> class value or None, valid mask after ``skip``)."""
    if data.dtype.kind == "f":
        vals = data[valid]
        if not np.array_equal(vals, np.floor(vals)):
            raise EolinkedError("the band holds non-integer values", where=path,
                                hint="class rasters need integer class codes (set nodata for fill values)")
        data = np.where(valid, data, 0).astype(np.int64)
    if data.dtype.kind not in "iub":
        raise EolinkedError(f"unsupported band type {data.dtype}", where=path, hint="use an integer band")
    if skip is not None and len(skip):
        valid = valid & ~np.isin(data, skip)
    if data.dtype.name in _SHAPES_DTYPES:
        return data, None, valid
    vals = data[valid]
    if vals.size == 0 or (vals.min() >= -(2 ** 31) and vals.max() < 2 ** 31):
        return np.where(valid, data, 0).astype(np.int32), None, valid
    lookup, codes = np.unique(vals, return_inverse=True)
    out = np.zeros(data.shape, np.int32)
    out[valid] = codes
    return out, lookup.astype(np.int64), valid


def _polygonise(codes, valid, r0, connectivity, lookup):
    """Polygons of a strip in pixel space, their class values and GeoJSON dicts."""
    items = list(features.shapes(codes, mask=valid, connectivity=connectivity, transform=Affine.translation(0, r0)))
    if not items:
        return np.empty(0, object), np.zeros(0, np.int64), []
    dicts = [g for g, _ in items]
    values = np.array([v for _, v in items], dtype=np.float64).astype(np.int64)
    if lookup is not None:
        values = lookup[values]
    rings = [ring for g in dicts for ring in g["coordinates"]]
    ring_sizes = np.fromiter(map(len, rings), np.int64, len(rings))
    poly_sizes = np.fromiter((len(g["coordinates"]) for g in dicts), np.int64, len(dicts))
    xy = np.fromiter(chain.from_iterable(chain.from_iterable(rings)), np.float64, 2 * int(ring_sizes.sum()))
    offsets = (np.r_[0, np.cumsum(ring_sizes)], np.r_[0, np.cumsum(poly_sizes)])
    geoms = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy.reshape(-1, 2), offsets)
    return geoms, values, dicts


def _first_pixels(geoms, width):
    """Row-major index of each polygon's first pixel: the left corner of its leftmost top-row pixel."""
    top = shapely.bounds(geoms)[:, 1]
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    on_top = xy[:, 1] == top[idx]
    left = np.full(len(geoms), np.inf)
    np.minimum.at(left, idx[on_top], xy[on_top, 0])
    return top.astype(np.int64) * width + left.astype(np.int64)


def _row_labels(dicts, which, row, width):
    """Per column of pixel row ``row``: index of the polygon covering it, or -1."""
    if not len(which):
        return np.full(width, -1)
    shapes = ((dicts[i], int(i)) for i in which)
    return features.rasterize(shapes, out_shape=(1, width), transform=Affine.translation(0, row), fill=-1,
                              dtype="int32")[0].astype(np.int64)


def _components(n, a, b):
    """Connected components of n nodes given edges a-b: each node's smallest member (vectorised union-find)."""
    parent = np.arange(n)
    while len(a):
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            break
        a, b, ra, rb = a[differ], b[differ], ra[differ], rb[differ]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))  # hook roots onto smaller roots
        while True:  # compress until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def _border_edges(prev: _Open, top_labels, top_row, connectivity):
    """(open region, new polygon) pairs of equal-valued pixels touching across the strip border."""
    shifts = [0] if connectivity == 4 else [0, -1, 1]
    a, b = [], []
    width = len(top_labels)
    for s in shifts:  # pixel (border-1, c) against (border, c + s)
        lo, hi = max(0, -s), width - max(0, s)
        pa_, pb_ = prev.labels[lo:hi], top_labels[lo + s:hi + s]
        ok = (pa_ >= 0) & (pb_ >= 0) & (prev.row[lo:hi] == top_row[lo + s:hi + s])
        a.append(pa_[ok])
        b.append(pb_[ok])
    pairs = np.unique(np.stack([np.concatenate(a), np.concatenate(b)]), axis=1)
    return pairs[0], pairs[1]


def _row_values(data, valid, r):
    return np.where(valid[r], data[r], 0).astype(np.int64)


def _strip(path, data, valid, skip, r0, prev: _Open, connectivity, last, open_top=False):
    """Polygonise one strip, join it to the open regions; return (closed regions, new open state).

    With ``open_top`` (a strip read on its own) regions touching the top row stay open as well."""
    h, width = data.shape
    codes, lookup, valid = _class_codes(path, data, valid, skip)
    geoms, values, dicts = _polygonise(codes, valid, r0, connectivity, lookup)
    m, n_open = len(geoms), len(prev.value)
    bounds = shapely.bounds(geoms) if m else np.zeros((0, 4))
    top = _row_labels(dicts, np.flatnonzero(bounds[:, 1] == r0), r0, width)
    a, b = _border_edges(prev, top, _row_values(data, valid, 0), connectivity)
    comp = _components(n_open + m, a, b + n_open)
    roots, comp = np.unique(comp, return_inverse=True)
    k = len(roots)
    # per component: value, pixel count, first pixel, still open?
    node_value = np.concatenate([prev.value, values])
    node_count = np.concatenate([prev.count, np.rint(shapely.area(geoms)).astype(np.int64)])
    node_first = np.concatenate([prev.first, _first_pixels(geoms, width) if m else np.zeros(0, np.int64)])
    value = np.zeros(k, np.int64)
    value[comp] = node_value
    count = np.bincount(comp, weights=node_count, minlength=k).astype(np.int64)
    first = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(first, comp, node_first)
    at_bottom = bounds[:, 3] == r0 + h
    is_open = np.zeros(k, bool)
    if not last:
        is_open[comp[n_open:][at_bottom]] = True
    if open_top:
        is_open[comp[n_open:][bounds[:, 1] == r0]] = True
    # parts: those of open regions, then the new polygons
    parts = np.concatenate([prev.parts, geoms])
    part_comp = np.concatenate([comp[prev.part_region], comp[n_open:]])
    shut = ~is_open[part_comp]
    closed = (parts[shut], part_comp[shut], value, count, first)
    # renumber open components 0..; the bottom row maps columns onto them
    open_id = np.full(k, -1)
    open_id[is_open] = np.arange(is_open.sum())
    bottom = _row_labels(dicts, np.flatnonzero(at_bottom), r0 + h - 1, width)
    labels = np.where(bottom >= 0, open_id[comp[n_open:][bottom]] if m else -1, -1)
    state = _Open(value[is_open], count[is_open], first[is_open], parts[~shut], open_id[part_comp[~shut]],
                  labels, _row_values(data, valid, h - 1))
    if open_top:
        state.top = np.where(top >= 0, open_id[comp[n_open:][top]] if m else -1, -1)
        state.top_row = _row_values(data, valid, 0)
    return closed, state


# --- strips read apart (a distributed engine): polygonise each, then merge the open regions ---

def strip_regions(path, band: int, r0: int, r1: int, connectivity: int = 4, skip_values=None):
    """(table of the regions wholly inside rows r0..r1, open state of those touching its top or bottom)."""
    with _open(path) as ds:
        window = Window(0, r0, ds.width, r1 - r0)
        data, valid = ds.read(band, window=window), ds.read_masks(band, window=window) != 0
        skip = None if skip_values is None else np.asarray(list(skip_values), dtype=np.int64)
        closed, state = _strip(path, data, valid, skip, r0, _Open.empty(ds.width), connectivity,
                               last=r1 >= ds.height, open_top=r0 > 0)
        return _emit(closed, ds.width, ds.transform, connectivity), state


def merge_strips(path, states: list[_Open], connectivity: int = 4) -> pa.Table | None:
    """The regions made of the open parts of consecutive strips (``states`` in row order)."""
    with _open(path) as ds:
        width, transform = ds.width, ds.transform
    sizes = np.array([len(s.value) for s in states], np.int64)
    base = np.r_[0, np.cumsum(sizes)]
    a, b = [], []
    for k in range(len(states) - 1):
        if states[k + 1].top is not None:
            ea, eb = _border_edges(states[k], states[k + 1].top, states[k + 1].top_row, connectivity)
            a.append(ea + base[k])
            b.append(eb + base[k + 1])
    edges = (np.concatenate(a), np.concatenate(b)) if a else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    roots, comp = np.unique(_components(int(base[-1]), *edges), return_inverse=True)
    k = len(roots)
    value = np.zeros(k, np.int64)
    value[comp] = np.concatenate([s.value for s in states]) if states else []
    count = np.bincount(comp, weights=np.concatenate([s.count for s in states]) if states else None,
                        minlength=k).astype(np.int64)
    first = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(first, comp, np.concatenate([s.first for s in states]) if states else np.zeros(0, np.int64))
    parts = np.concatenate([s.parts for s in states]) if states else np.empty(0, object)
    part_comp = comp[np.concatenate([s.part_region + base[i] for i, s in enumerate(states)])] if states else comp
    return _emit((parts, part_comp, value, count, first), width, transform, connectivity)


def _union_groups(geoms, groups):
    """Union geometries per group (pairwise tree reduction, vectorised); returns (groups, geometries)."""
    order = np.argsort(groups, kind="stable")
    groups, geoms = groups[order], geoms[order]
    n_parts = np.bincount(np.unique(groups, return_inverse=True)[1])
    merged = np.repeat(n_parts > 1, n_parts)
    while len(groups) > 1 and (groups[1:] == groups[:-1]).any():
        pos = np.arange(len(groups))
        start = np.r_[True, groups[1:] != groups[:-1]]
        rank = pos - np.maximum.accumulate(np.where(start, pos, 0))
        even = rank % 2 == 0
        pair = np.flatnonzero(even & np.r_[groups[1:] == groups[:-1], False])
        geoms = geoms.copy()
        geoms[pair] = shapely.union(geoms[pair], geoms[pair + 1])
        groups, geoms, merged = groups[even], geoms[even], merged[even]
    # drop collinear vertices left at strip seams (pixel space: exact)
    geoms[merged] = shapely.simplify(geoms[merged], 0)
    return groups, geoms


def _emit(closed, width, transform: Affine, connectivity) -> pa.Table | None:
    parts, part_comp, value, count, first = closed
    if not len(parts):
        return None
    comp, geoms = _union_groups(parts, part_comp)
    if connectivity == 8:  # GDAL's 8-connected rings touch themselves: emit valid geometries
        bad = ~shapely.is_valid(geoms)
        geoms[bad] = shapely.make_valid(geoms[bad])
    geoms = shapely.normalize(geoms)  # one form however the raster was cut into strips
    order = np.argsort(first[comp], kind="stable")
    comp, geoms = comp[order], geoms[order]
    t = transform

    def to_crs(xy):  # GDAL polygonize's formula, for bit-identical coordinates
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([t.c + x * t.a + y * t.b, t.f + x * t.d + y * t.e])

    rows, cols = np.divmod(first[comp], width)
    region = pc.binary_join_element_wise("r", pa.array(rows).cast(pa.string()), "c",
                                         pa.array(cols).cast(pa.string()), "")
    wkb = shapely.to_wkb(shapely.transform(geoms, to_crs), flavor="iso")
    return pa.table([region, pa.array(value[comp]), pa.array(count[comp]), pa.array(wkb, pa.binary())],
                    schema=SCHEMA)


class _Batcher:
    """Regroups tables into batches of ``size`` rows."""

    def __init__(self, size):
        self.size, self.pending, self.rows = max(1, size), [], 0

    def add(self, table):
        if table is not None and table.num_rows:
            self.pending.append(table)
            self.rows += table.num_rows
        while self.rows >= self.size:
            whole = pa.concat_tables(self.pending)
            yield whole.slice(0, self.size)
            rest = whole.slice(self.size)
            self.pending, self.rows = [rest], rest.num_rows

    def flush(self):
        if self.rows:
            yield pa.concat_tables(self.pending)
        self.pending, self.rows = [], 0


# --- Source adapter for the RML executor ---

class RasterSource(Source):
    """A class raster as an RML logical source: region, value, pixel_count and the geometry."""

    ALIASES = ("the_geom",)

    def __init__(self, path: str, band: int = 1):
        self.path = path
        self.band = band
        self.info = raster_info(path)
        self.source_crs = self.info.crs
        self.crs, self._reproject, self.note = normalise_source_crs(self.info.crs)
        self.geometry_columns = frozenset({GEOMETRY})

    def columns(self) -> list[str]:
        return SCHEMA.names

    def resolve(self, ref: str) -> str:
        return GEOMETRY if ref in self.ALIASES else ref

    def batches(self, refs, batch_size):
        offset = 0
        for table in read_raster_classes(self.path, self.band, batch_size):
            yield self.batch(table, refs, offset)
            offset += table.num_rows

    def batch(self, table: pa.Table, refs, offset: int) -> Batch:
        """A batch from a table of regions (``SCHEMA``)."""
        if self._reproject:  # custom CRS without an IRI: literals are written in CRS84
            geoms = shapely.from_wkb(np.asarray(table.column(GEOMETRY).to_numpy(zero_copy_only=False)))
            wkb = shapely.to_wkb(reproject(geoms, self.source_crs, self.crs), flavor="iso")
            table = table.set_column(3, GEOMETRY, pa.array(wkb, pa.binary()))
        cols = {ref: table.column(self.resolve(ref)) for ref in refs if ref not in ROW_REFS}  # ROW: the offset
        return Batch(pa.table(cols) if cols else pa.table({"__n": pa.nulls(table.num_rows)}), offset)

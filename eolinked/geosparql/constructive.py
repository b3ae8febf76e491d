"""Functions that build geometries; results are geo:wktLiteral in the first argument's CRS.

Binary operations reproject the second argument into the first one's CRS.  ``buffer`` with a
linear unit on a geographic CRS buffers in the local UTM zone of each geometry (see
:mod:`.geodesy`) and projects back; with an angular unit it buffers in the lon/lat plane.
"""
from __future__ import annotations

import numpy as np
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.terms import Terms
from eolinked.vocab import GEOF, UOM

from ._core import (
    Geoms,
    geographic,
    geometries,
    iri_values,
    numbers,
    safe,
    to_crs,
    units,
    wkt_terms,
)
from .geodesy import centres, from_local, to_local, zones


def _result(geom: np.ndarray, crs: np.ndarray) -> Terms:
    geom = np.asarray(geom, object)
    return wkt_terms(Geoms(geom, np.where(shapely.is_missing(geom), None, crs)))


def _apply(fn, g: Geoms, ok: np.ndarray | None = None, *args) -> Terms:
    ok = g.ok if ok is None else ok & g.ok
    out = np.full(len(g), None, object)
    if ok.any():
        out[ok] = safe(fn, g.geom[ok], *(a[ok] for a in args))
    return _result(out, g.crs)


def _unary(fn):
    def f(g: Terms) -> Terms:
        return _apply(fn, geometries(g))
    return f


def _binary(fn):
    def f(a: Terms, b: Terms) -> Terms:
        ga = geometries(a)
        gb = to_crs(geometries(b), ga.crs)
        return _apply(fn, ga, gb.ok, gb.geom)
    return f


def buffer(g: Terms, radius: Terms, unit: Terms) -> Terms:
    """geof:buffer(geom, radius, unit): the geometry grown (or shrunk) by ``radius``."""
    G = geometries(g)
    r = numbers(radius)
    kind, factor = units(unit)
    ok = G.ok & np.isfinite(r) & (kind != None)
    geo, metres_per_unit = geographic(G.crs)
    dist = r * factor
    out = np.full(len(G), None, object)
    plane = ok & ((geo & (kind == "angular")) | (~geo & (kind == "linear") & np.isfinite(metres_per_unit)))
    scale = np.where(geo, 1.0, 1.0 / np.where(np.isfinite(metres_per_unit), metres_per_unit, 1.0))
    if plane.any():
        out[plane] = safe(shapely.buffer, G.geom[plane], (dist * scale)[plane])
    local = ok & geo & (kind == "linear")
    if local.any():
        x, y = centres(G.geom[local])
        zone = zones(np.nan_to_num(x), np.nan_to_num(y))
        crs = G.crs[local]
        flat = to_local(G.geom[local], crs, zone)
        good = ~shapely.is_missing(flat)
        grown = np.full(len(flat), None, object)
        grown[good] = safe(shapely.buffer, flat[good], dist[local][good])
        out[local] = from_local(grown, crs, zone)
    return _result(out, G.crs)


def metric_buffer(g: Terms, radius: Terms) -> Terms:
    """geof:metricBuffer(geom, metres)."""
    return buffer(g, radius, Terms.iris(np.full(len(g), UOM + "metre", object)))


def transform(g: Terms, target: Terms) -> Terms:
    """geof:transform(geom, crsIRI): the geometry in another CRS (unknown CRS = error)."""
    G = geometries(g)
    iris = iri_values(target)
    canonical = np.full(len(iris), None, object)
    for iri in set(iris[iris != None].tolist()):
        try:
            canonical[iris == iri] = crslib.crs_to_iri(iri)
        except EolinkedError:
            pass
    out = to_crs(Geoms(G.geom, G.crs), canonical)
    return wkt_terms(Geoms(np.where(canonical != None, out.geom, None), out.crs))


def geometry_n(g: Terms, n: Terms) -> Terms:
    """geof:geometryN(geom, n): the n-th (1-based) member; a non-collection is its own 1st member."""
    G = geometries(g)
    k = numbers(n)
    ok = np.isfinite(k) & (k == np.round(k)) & (k >= 1)
    index = np.where(ok, k - 1, 0).astype(np.int64)
    return _apply(shapely.get_geometry, G, ok, index)


def concave_hull(g: Terms, ratio: Terms | None = None) -> Terms:
    """geof:concaveHull(geom [, ratio in 0..1]): shapely.concave_hull (default ratio 0)."""
    G = geometries(g)
    r = np.zeros(len(G)) if ratio is None else numbers(ratio)
    ok = G.ok & np.isfinite(r) & (r >= 0) & (r <= 1)
    out = np.full(len(G), None, object)
    for value in np.unique(r[ok]):  # shapely takes one ratio per call
        sel = ok & (r == value)
        out[sel] = safe(shapely.concave_hull, G.geom[sel], ratio=float(value))
    return _result(out, G.crs)


FUNCTIONS = {
    GEOF + "buffer": buffer,
    GEOF + "metricBuffer": metric_buffer,
    GEOF + "convexHull": _unary(shapely.convex_hull),
    GEOF + "envelope": _unary(shapely.envelope),
    GEOF + "boundary": _unary(shapely.boundary),
    GEOF + "centroid": _unary(shapely.centroid),
    GEOF + "boundingCircle": _unary(shapely.minimum_bounding_circle),
    GEOF + "concaveHull": concave_hull,
    GEOF + "intersection": _binary(shapely.intersection),
    GEOF + "union": _binary(shapely.union),
    GEOF + "difference": _binary(shapely.difference),
    GEOF + "symDifference": _binary(shapely.symmetric_difference),
    GEOF + "transform": transform,
    GEOF + "geometryN": geometry_n,
}

"""Arguments and results of the GeoSPARQL functions: geometry literals <-> shapely arrays.

A geometry argument becomes a :class:`Geoms` (x/y-ordered shapely geometries and the CRS IRI of
each row; None = error: not a geometry literal, unparsable, unknown CRS).  Each distinct lexical
form is parsed once.  Results are :class:`eolinked.terms.Terms` whose null kind marks an error.
"""
from __future__ import annotations

from dataclasses import dataclass
import threading
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely
from shapely.errors import GEOSException

from eolinked import crs as crslib
from eolinked.crs import CRS84_IRI
from eolinked.errors import EolinkedError
from eolinked.literals import EMPTY, literal_geometries, wkt_literals
from eolinked.terms import IRI, LITERAL, Terms
from eolinked.vocab import GEO, GEOJSON_LITERAL, GML_LITERAL, UOM, WKT_LITERAL, XSD

from .kml import parse_kml_literals

KML_LITERAL = GEO + "kmlLiteral"
GEOMETRY_DATATYPES = (WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL, KML_LITERAL)
XSD_DOUBLE, XSD_INTEGER, XSD_BOOLEAN, XSD_ANYURI = XSD + "double", XSD + "integer", XSD + "boolean", XSD + "anyURI"
NUMERIC_DATATYPES = {XSD + t for t in (
    "double", "float", "decimal", "integer", "long", "int", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte")}
_NUMBER = r"^\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)\s*$"

# unit IRI -> ("linear", metres per unit) or ("angular", degrees per unit)
UNITS = {
    UOM + "metre": ("linear", 1.0), UOM + "meter": ("linear", 1.0),
    UOM + "kilometre": ("linear", 1000.0), UOM + "kilometer": ("linear", 1000.0),
    UOM + "centimetre": ("linear", 0.01), UOM + "millimetre": ("linear", 0.001),
    UOM + "foot": ("linear", 0.3048), UOM + "US_survey_foot": ("linear", 1200 / 3937),
    UOM + "yard": ("linear", 0.9144), UOM + "statuteMile": ("linear", 1609.344),
    UOM + "mile": ("linear", 1609.344), UOM + "nauticalMile": ("linear", 1852.0),
    UOM + "degree": ("angular", 1.0), UOM + "radian": ("angular", 180.0 / np.pi),
}
METRE = UOM + "metre"


@dataclass
class Geoms:
    """Geometries (x/y order, in their own CRS) and CRS IRIs; None marks an error row."""

    geom: np.ndarray
    crs: np.ndarray

    def __len__(self) -> int:
        return len(self.geom)

    @property
    def ok(self) -> np.ndarray:
        return ~shapely.is_missing(self.geom)

    def take(self, idx) -> Geoms:
        return Geoms(self.geom[idx], self.crs[idx])


# -- arguments -----------------------------------------------------------------------------
def _np(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def _not_geometry(t):
    """Parsed geometries where a number, string or IRI is expected: an error in every row."""
    if isinstance(t, Geoms):
        none = pa.nulls(len(t), pa.string())
        return Terms(pa.nulls(len(t), pa.int8()), none, none, none)
    return t


def _literal_rows(t: Terms, datatypes) -> np.ndarray:
    is_lit = pc.fill_null(pc.equal(t.kind, LITERAL), False)
    in_set = pc.fill_null(pc.is_in(t.datatype, pa.array(list(datatypes), pa.string())), False)
    return _np(pc.and_(is_lit, in_set))


def _parse_unique(lexicals: pa.Array, datatype: str) -> tuple[np.ndarray, np.ndarray]:
    """An empty literal (or a WKT CRS IRI alone) is an empty geometry (GeoSPARQL 1.1 Req 13, 16):
    eolinked.literals reads WKT, GML and GeoJSON so, as the store's loader does; KML here."""
    if datatype == KML_LITERAL:
        geoms, iris = parse_kml_literals(lexicals)
        blank = _np(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(lexicals), ""), False))
    else:
        geoms, iris = literal_geometries(lexicals, datatype, on_invalid="null")
        blank = np.zeros(len(geoms), bool)
    geoms, iris = np.asarray(geoms, object), np.array(list(iris) + [None], object)[:-1]
    geoms[blank], iris[blank] = EMPTY, CRS84_IRI
    iris[shapely.is_missing(geoms)] = None
    return geoms, iris


_PARSED: dict = {}            # (datatype, lexical form) -> (geometry, CRS IRI) of recent literals
_PARSED_LIMIT = 200_000_000    # characters of lexical forms kept; the cache is emptied past it
_parsed_chars = 0
_parsed_lock = threading.Lock()


def _parse_cached(lexicals: pa.Array, datatype: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_parse_unique` with a cache across calls: a join's exact test meets the same
    literals in batch after batch, and parsing a large polygon dominates its cost."""
    global _parsed_chars
    texts = lexicals.to_pylist()
    with _parsed_lock:
        found = [_PARSED.get((datatype, s)) for s in texts]
    geoms, iris = np.full(len(texts), None, object), np.full(len(texts), None, object)
    miss = np.array([f is None for f in found], bool)
    hit = np.flatnonzero(~miss)
    if len(hit):
        geoms[hit] = [found[k][0] for k in hit]
        iris[hit] = [found[k][1] for k in hit]
    if miss.any():
        idx = np.flatnonzero(miss)
        g, c = _parse_unique(lexicals.take(pa.array(idx)), datatype)
        geoms[idx], iris[idx] = g, c
        size = sum(len(texts[k]) for k in idx)
        with _parsed_lock:
            if _parsed_chars + size > _PARSED_LIMIT:
                _PARSED.clear()
                _parsed_chars = 0
            _PARSED.update(((datatype, texts[k]), (g[m], c[m])) for m, k in enumerate(idx))
            _parsed_chars += size
    return geoms, iris


def geometry_rows(t: Terms) -> np.ndarray:
    """Which rows are geometry literals (of a datatype the library reads)."""
    return _literal_rows(t, GEOMETRY_DATATYPES)


def geometries(t: Terms | Geoms) -> Geoms:
    """Parse a column of geometry literals (WKT, GML, GeoJSON, KML); other terms give None.
    Arguments that the caller already parsed (a :class:`Geoms`) pass through."""
    if isinstance(t, Geoms):
        return t
    n = len(t)
    geom, crs = np.full(n, None, object), np.full(n, None, object)
    rows = _literal_rows(t, GEOMETRY_DATATYPES)
    if not rows.any():
        return Geoms(geom, crs)
    dts = _np(t.datatype)
    for dt in GEOMETRY_DATATYPES:
        sel = np.flatnonzero(rows & (dts == dt))
        if not len(sel):
            continue
        enc = pc.take(t.value, pa.array(sel)).dictionary_encode()
        g, c = _parse_cached(enc.dictionary, dt)
        idx = _np(enc.indices)
        geom[sel], crs[sel] = g[idx], c[idx]
    return Geoms(geom, crs)


def numbers(t: Terms) -> np.ndarray:
    """Float value of numeric literals; NaN for errors (NaN literals too, which no function accepts)."""
    t = _not_geometry(t)
    rows = _literal_rows(t, NUMERIC_DATATYPES)
    good = pc.and_(pa.array(rows), pc.fill_null(pc.match_substring_regex(t.value, _NUMBER), False))
    text = pc.utf8_trim_whitespace(pc.if_else(good, t.value, "NaN"))
    text = pc.replace_substring_regex(text, r"^\+?INF$", "inf")
    text = pc.replace_substring_regex(text, r"^-INF$", "-inf")
    return _np(pc.cast(pc.replace_substring_regex(text, r"\.$", ".0"), pa.float64()))


def iri_values(t: Terms) -> np.ndarray:
    """IRIs, or the lexical form of xsd:anyURI / xsd:string literals; None otherwise."""
    t = _not_geometry(t)
    ok = pc.or_(pc.fill_null(pc.equal(t.kind, IRI), False),
                pa.array(_literal_rows(t, (XSD_ANYURI, XSD + "string"))))
    return _np(pc.if_else(ok, t.value, pa.scalar(None, pa.string())))


def strings(t: Terms) -> np.ndarray:
    """Lexical forms of simple / xsd:string literals; None otherwise."""
    t = _not_geometry(t)
    rows = _literal_rows(t, (XSD + "string",))
    return _np(pc.if_else(pa.array(rows), t.value, pa.scalar(None, pa.string())))


def units(t: Terms) -> tuple[np.ndarray, np.ndarray]:
    """(kind "linear"/"angular"/None, factor) per row: metres or degrees per unit."""
    t = _not_geometry(t)
    iris = iri_values(t)
    kind, factor = np.full(len(iris), None, object), np.full(len(iris), np.nan)
    for iri in set(iris[iris != None].tolist()):
        if iri in UNITS:
            sel = iris == iri
            kind[sel], factor[sel] = UNITS[iri]
    return kind, factor


# -- CRSs ------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def crs_info(iri: str) -> tuple[bool, float]:
    """(is geographic, metres per axis unit: NaN when not a length) of a CRS IRI."""
    c = crslib.as_crs(iri)
    if c.is_geographic:
        return True, np.nan
    axes = c.axis_info
    unit = axes[0].unit_conversion_factor if axes and axes[0].unit_name != "degree" else np.nan
    return False, float(unit)


def geographic(crs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether the CRS is geographic, and metres per unit of a projected CRS."""
    geo, unit = np.zeros(len(crs), bool), np.full(len(crs), np.nan)
    for iri in set(crs[crs != None].tolist()):
        sel = crs == iri
        try:
            geo[sel], unit[sel] = crs_info(iri)
        except EolinkedError:
            pass
    return geo, unit


def _transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached transformer for this thread (PROJ objects must not cross threads)."""
    return _thread_transformer(src, dst, threading.get_ident())


@lru_cache(maxsize=256)
def _thread_transformer(src: str, dst: str, thread: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crslib.as_crs(src).to_wkt(), crslib.as_crs(dst).to_wkt(), always_xy=True)


def reproject(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """x/y geometries from ``src`` to ``dst`` (CRS IRIs or specs); rows that fail become None."""
    if src == dst:
        return geoms
    try:
        tr = _transformer(src, dst)
    except (EolinkedError, pyproj.exceptions.ProjError):
        return np.full(len(geoms), None, object)
    g = crslib.drop_m(geoms)
    out = np.full(len(g), None, object)
    z = shapely.has_z(g)
    for with_z in (True, False):
        sel = (z == with_z) & ~shapely.is_missing(g)
        if sel.any():
            out[sel] = shapely.transform(g[sel], lambda c: np.column_stack(tr.transform(*c.T)),
                                         include_z=with_z)
    coords, idx = shapely.get_coordinates(out, return_index=True)
    bad = idx[~np.isfinite(coords).all(axis=1)]
    out[bad] = None
    return out


def to_crs(g: Geoms, target: np.ndarray) -> Geoms:
    """Rows of ``g`` reprojected to the per-row ``target`` CRS IRIs (one pass per distinct pair)."""
    geom, crs = g.geom.copy(), g.crs.copy()
    move = g.ok & (target != None) & (g.crs != target)
    if move.any():
        for src in set(g.crs[move].tolist()):
            for dst in set(target[move & (g.crs == src)].tolist()):
                sel = move & (g.crs == src) & (target == dst)
                geom[sel] = reproject(g.geom[sel], src, dst)
        crs[move] = target[move]
    crs[shapely.is_missing(geom)] = None
    return Geoms(geom, crs)


def common(a: Geoms, b: Geoms) -> tuple[Geoms, Geoms]:
    """Both in the same CRS per row: unchanged when equal, else both in CRS84."""
    differ = a.ok & b.ok & (a.crs != b.crs)
    if not differ.any():
        return a, b
    target = np.where(differ, CRS84_IRI, None)
    return to_crs(a, np.where(differ, target, a.crs)), to_crs(b, np.where(differ, target, b.crs))


# -- results ---------------------------------------------------------------------------------
def _error_mask(values: pa.Array, ok: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(ok, pa.bool_()), values, pa.scalar(None, values.type))


def wkt_terms(g: Geoms) -> Terms:
    """geo:wktLiteral results, each in its row's CRS (CRS IRI prefix unless CRS84)."""
    n = len(g)
    out = np.full(n, None, object)
    ok = g.ok & (g.crs != None)
    for iri in set(g.crs[ok].tolist()):
        sel = ok & (g.crs == iri)
        try:
            out[sel] = _np(wkt_literals(g.geom[sel], iri))
        except EolinkedError:
            pass
    return Terms.literals(pa.array(out, pa.string()), WKT_LITERAL)


def literal_terms(lexicals: np.ndarray, datatype: str) -> Terms:
    return Terms.literals(pa.array(lexicals, pa.string()), datatype)


def doubles(values, ok=None) -> Terms:
    """xsd:double literals (shortest round-trip digits, "1.0" not "1"); NaN or not ok = error."""
    v = np.asarray(values, float)
    ok = ~np.isnan(v) if ok is None else ok & ~np.isnan(v)
    text = pa.array(np.where(ok, v, 0.0)).cast(pa.string())
    text = pc.replace_substring(pc.replace_substring(text, "-inf", "-INF"), "inf", "INF")
    text = pc.if_else(pc.match_substring_regex(text, r"^-?\d+$"), pc.binary_join_element_wise(text, ".0", ""), text)
    return Terms.literals(_error_mask(text, ok), XSD_DOUBLE)


def integers(values, ok) -> Terms:
    text = pa.array(np.where(ok, np.asarray(values), 0).astype(np.int64)).cast(pa.string())
    return Terms.literals(_error_mask(text, ok), XSD_INTEGER)


def booleans(values, ok) -> Terms:
    text = pa.array(np.where(np.asarray(values, bool), "true", "false"), pa.string())
    return Terms.literals(_error_mask(text, ok), XSD_BOOLEAN)


def anyuris(values: np.ndarray) -> Terms:
    return Terms.literals(pa.array(values, pa.string()), XSD_ANYURI)


def safe(fn, *arrays, **kwargs) -> np.ndarray:
    """``fn(*arrays)`` vectorised; if GEOS fails on the batch, retry row by row (failures -> None)."""
    try:
        return np.asarray(fn(*arrays, **kwargs), object)
    except (GEOSException, ValueError):
        pass
    out = np.full(len(arrays[0]), None, object)
    for i in range(len(out)):  # documented fallback: only after a batch-level GEOS error
        try:
            out[i] = fn(*(a[i] for a in arrays), **kwargs)
        except (GEOSException, ValueError):
            out[i] = None
    return out

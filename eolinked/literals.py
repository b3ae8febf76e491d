"""GeoSPARQL geometry literals (WKT, GML, GeoJSON): arrays of geometries in, arrays of lexical forms out.

Geometries are in the traditional x/y order of their CRS (lon/lat, easting/northing);
lexical forms use the axis order the CRS authority defines (GeoSPARQL 1.1), so
EPSG:4326 literals read "lat lon" and CRS84 literals "lon lat".
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.errors import GEOSException

from eolinked import crs as crslib
from eolinked.crs import CRS84_IRI
from eolinked.errors import EolinkedError
from eolinked.vocab import GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

GML_NS = "http://www.opengis.net/gml/3.2"
_WKT_DIGITS = 25  # GEOS writes shortest round-trip floats when allowed >= 21 decimals
_PREFIX = r"^\s*<(?P<iri>[^>]*)>"  # a leading <CRS IRI>; anchored, so linear
_MULTI = {4: ("MultiPoint", "pointMember"), 5: ("MultiCurve", "curveMember"),
          6: ("MultiSurface", "surfaceMember"), 7: ("MultiGeometry", "geometryMember")}
EMPTY = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")  # what an empty literal means (GeoSPARQL 1.1 Req 13, 16)
_LEGACY_SRS = re.compile(r"^(?:EPSG:|https?://(?:www\.)?opengis\.net/gml/srs/epsg\.xml#)(\d+)$", re.IGNORECASE)


# -- shared helpers -------------------------------------------------------------------
def _geoms(geoms) -> np.ndarray:
    return np.asarray(geoms, dtype=object).reshape(-1)


def _strings(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(np.asarray(values, dtype=object).reshape(-1), pa.string())
    return values.cast(pa.string())


def _iri_of(crs) -> str:
    if crs is None:
        return CRS84_IRI
    iri = crslib.crs_to_iri(crs)
    if iri is None:
        raise EolinkedError(f"CRS {crslib.as_crs(crs).name!r} has no authority IRI, so a literal cannot name it",
                            hint="reproject to CRS84 or an EPSG CRS first (see eolinked.crs.normalise_source_crs)")
    return iri


def _authority_order(geoms: np.ndarray, iri: str) -> np.ndarray:
    return crslib.swap_xy(geoms) if crslib.is_northing_first(iri) else geoms


def _blank(texts: pa.Array) -> np.ndarray:
    """Rows that are empty or whitespace only (nulls are not)."""
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(texts), ""), False).to_numpy(zero_copy_only=False)


def _check_mode(on_invalid: str) -> None:
    if on_invalid not in ("raise", "null"):
        raise EolinkedError(f"on_invalid must be 'raise' or 'null', not {on_invalid!r}")


def _by_crs(names: pa.Array, resolve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: canonical IRI (None for null/unknown), whether to swap, whether the CRS is unknown.

    ``resolve(name) -> (iri, swap)`` runs once per distinct CRS name.
    """
    enc = names.dictionary_encode()
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    iris, swap, unknown = [None], [False], [False]  # sentinel last: null rows index -1
    for name in enc.dictionary.to_pylist():
        try:
            iri, flip = resolve(name)
        except EolinkedError:
            iri, flip = None, False
        iris.insert(-1, iri), swap.insert(-1, flip), unknown.insert(-1, iri is None)
    return np.array(iris, dtype=object)[idx], np.array(swap)[idx], np.array(unknown)[idx]


def _finish(kind: str, texts: pa.Array, geoms, iris, swap, unknown, bad, on_invalid: str, reason: str, hint: str):
    """Raise on (or null) unreadable rows, then swap authority-ordered rows back to x/y."""
    drop = bad | unknown
    if on_invalid == "raise" and drop.any():
        i = int(np.flatnonzero(drop)[0])
        text = texts[i].as_py()
        shown = text if len(text) <= 80 else text[:77] + "..."
        why = "unknown CRS" if unknown[i] else reason
        more = f" ({int(drop.sum()) - 1} more)" if drop.sum() > 1 else ""
        raise EolinkedError(f"invalid {kind} literal at index {i}: {shown!r}: {why}{more}",
                            hint=f"{hint}; name the CRS with an OGC IRI such as "
                                 "<http://www.opengis.net/def/crs/EPSG/0/4326>" if unknown[i] else hint)
    geoms[drop], iris[drop] = None, None
    swap &= ~drop
    if swap.any():
        geoms[swap] = crslib.swap_xy(geoms[swap])
    return geoms, iris.tolist()


# -- WKT -------------------------------------------------------------------------------
def wkt_literals(geoms, crs) -> pa.StringArray:
    """``<IRI> WKT`` lexical forms (no IRI for CRS84), exact coordinates, Z/M kept; null -> null."""
    iri = _iri_of(crs)
    g = _authority_order(_geoms(geoms), iri)
    text = pa.array(shapely.to_wkt(g, rounding_precision=_WKT_DIGITS), pa.string())
    return text if iri == CRS84_IRI else pc.binary_join_element_wise(f"<{iri}> ", text, "")


@lru_cache(maxsize=256)
def _resolve_iri(name: str) -> tuple[str, bool]:
    if not name:
        return CRS84_IRI, False
    return crslib.crs_to_iri(name) or name, crslib.is_northing_first(name)


def parse_wkt_literals(lexicals, on_invalid: str = "raise") -> tuple[np.ndarray, list]:
    """(geometries in x/y order, canonical CRS IRI per literal) from ``[<IRI>] WKT`` lexical forms.

    No IRI means CRS84; null literals give null/None. An empty literal, or a CRS IRI with nothing
    after it, is an empty geometry (GEOMETRYCOLLECTION EMPTY, in that CRS). ``on_invalid="null"``
    turns unparsable WKT and unknown CRS IRIs into nulls instead of raising.
    """
    _check_mode(on_invalid)
    texts = _strings(lexicals)
    names = pc.struct_field(pc.extract_regex(texts, _PREFIX), "iri")
    names = pc.if_else(texts.is_valid(), pc.fill_null(names, ""), names)  # "" = no IRI = CRS84
    body = pc.replace_substring_regex(texts, _PREFIX, "", max_replacements=1)
    empty = _blank(body)
    body = body.to_numpy(zero_copy_only=False)
    geoms = shapely.from_wkt(body, on_invalid="ignore")
    geoms[empty] = EMPTY
    bad = shapely.is_missing(geoms) & texts.is_valid().to_numpy(zero_copy_only=False)
    iris, swap, unknown = _by_crs(names, _resolve_iri)
    reason = ""
    if on_invalid == "raise" and bad.any():
        try:
            shapely.from_wkt(body[int(np.flatnonzero(bad)[0])])
            reason = "no WKT"
        except GEOSException as exc:
            reason = str(exc)
    return _finish("WKT", texts, geoms, iris, swap, unknown, bad, on_invalid, reason,
                   "a WKT literal is '<CRS IRI> WKT' or plain WKT, e.g. 'POINT (1 2)'")


# -- GML writer ------------------------------------------------------------------------
def _wrap(open_: str, body: pa.Array, close: str) -> pa.Array:
    return pc.binary_join_element_wise(open_, body, close, "")


def _join(values: pa.Array, index: np.ndarray, n: int, sep: str) -> pa.Array:
    """Join ``values`` grouped by the sorted parent ``index`` into ``n`` strings ("" for none)."""
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(index, minlength=n), out=offsets[1:])
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, values), sep)


def _numbers(values: np.ndarray) -> pa.Array:
    text = pa.array(values).cast(pa.string())  # Arrow writes shortest round-trip floats
    if not np.isfinite(values).all():
        text = pc.replace_substring(pc.replace_substring(text, "nan", "NaN"), "inf", "INF")
    return text


def _positions(geoms: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    xyz, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    two = pc.binary_join_element_wise(_numbers(xyz[:, 0]), _numbers(xyz[:, 1]), " ")
    z = shapely.has_z(geoms)[index]
    if not z.any():
        return index, two
    return index, pc.if_else(pa.array(z), pc.binary_join_element_wise(two, _numbers(xyz[:, 2]), " "), two)


def _gml_simple(geoms: np.ndarray, tag: str, pos: str) -> pa.Array:
    index, coords = _positions(geoms)
    body = _wrap(f"<gml:{tag}><gml:{pos}>", _join(coords, index, len(geoms), " "), f"</gml:{pos}></gml:{tag}>")
    return pc.if_else(pa.array(shapely.is_empty(geoms)), f"<gml:{tag}/>", body)


def _gml_polygons(geoms: np.ndarray) -> pa.Array:
    rings, parent = shapely.get_rings(geoms, return_index=True)
    index, coords = _positions(rings)
    ring = _wrap("<gml:LinearRing><gml:posList>", _join(coords, index, len(rings), " "),
                 "</gml:posList></gml:LinearRing>")
    first = pa.array(np.diff(parent, prepend=-1) != 0)
    ring = pc.if_else(first, _wrap("<gml:exterior>", ring, "</gml:exterior>"),
                      _wrap("<gml:interior>", ring, "</gml:interior>"))
    return _wrap("<gml:Polygon>", _join(ring, parent, len(geoms), ""), "</gml:Polygon>")


def _gml_multi(geoms: np.ndarray, type_id: int) -> pa.Array:
    tag, member = _MULTI[type_id]
    parts, parent = shapely.get_parts(geoms, return_index=True)
    members = _wrap(f"<gml:{member}>", _gml_elements(parts), f"</gml:{member}>")
    return _wrap(f"<gml:{tag}>", _join(members, parent, len(geoms), ""), f"</gml:{tag}>")


def _gml_elements(geoms: np.ndarray) -> pa.Array:
    """GML elements (no namespace/srs attributes) for non-null geometries; one pass per type and nesting level."""
    if len(geoms) == 0:
        return pa.array([], pa.string())
    types = shapely.get_type_id(geoms)
    pieces, order = [], []
    for t in np.unique(types):
        sel = np.flatnonzero(types == t)
        g = geoms[sel]
        if t == 0:
            pieces.append(_gml_simple(g, "Point", "pos"))
        elif t in (1, 2):  # a bare LinearRing is written as a gml:LineString
            pieces.append(_gml_simple(g, "LineString", "posList"))
        elif t == 3:
            pieces.append(_gml_polygons(g))
        else:
            pieces.append(_gml_multi(g, int(t)))
        order.append(sel)
    inverse = np.empty(len(geoms), np.int64)
    inverse[np.concatenate(order)] = np.arange(len(geoms))
    return pa.concat_arrays([p.cast(pa.string()) for p in pieces]).take(pa.array(inverse))


def gml_literals(geoms, crs) -> pa.StringArray:
    """GML 3.2 lexical forms, ``srsName`` = CRS IRI, authority axis order, ``srsDimension="3"`` for Z.

    Built with shapely array functions and Arrow string kernels, one pass per geometry
    type and nesting level (no per-geometry Python). M is dropped (GML has no M);
    empty points/lines are written as empty elements, a bare LinearRing as gml:LineString.
    """
    iri = _iri_of(crs)
    g = _authority_order(crslib.drop_m(geoms), iri)
    present = ~shapely.is_missing(g)
    elems = _gml_elements(g[present])
    attrs = f' xmlns:gml="{GML_NS}" srsName={quoteattr(iri)}'.replace("\\", "\\\\")  # RE2 rewrite escaping

    def root(extra: str) -> pa.Array:
        return pc.replace_substring_regex(elems, r"^<gml:(\w+)", rf"<gml:\1{attrs}{extra}", max_replacements=1)

    z = shapely.has_z(g[present])
    elems = pc.if_else(pa.array(z), root(' srsDimension="3"'), root("")) if z.any() else root("")
    return elems.take(pa.array(np.cumsum(present) - 1, mask=~present))


# -- GML reader (one xml.etree parse per literal: XML cannot be parsed column-wise) -------
def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _coords(el, dim: int) -> np.ndarray:
    """Coordinates of a gml:Point/LineString/LinearRing from posList, pos*, coordinates or coord*."""
    rows = []
    for child in el:
        name, text = _local(child), (child.text or "").strip()
        if name == "posList":
            d = int(child.get("srsDimension", dim))
            return np.array(text.split(), float).reshape(-1, d)
        if name == "coordinates":  # GML 2 / 3.1: "x,y x,y" with cs/ts/decimal attributes
            cs, ts, dec = child.get("cs", ","), child.get("ts", " "), child.get("decimal", ".")
            tuples = text.split(ts) if ts.strip() else text.split()
            flat = " ".join(tuples).replace(cs, " ")
            flat = flat.replace(dec, ".") if dec != "." else flat
            return np.array(flat.split(), float).reshape(len(tuples), -1)
        if name == "pos":
            rows.append(np.array(text.split(), float))
        elif name == "coord":
            rows.append(np.array([float(c.text) for c in child], float))
        elif name == "pointProperty":
            rows.extend(_coords(p, dim)[0] for p in child)
    return np.array(rows, float).reshape(len(rows), -1) if rows else np.empty((0, dim))


def _rings(el, dim: int, names: tuple[str, ...]) -> list[np.ndarray]:
    return [_coords(ring, dim) for b in el if _local(b) in names for ring in b]


def _empty(kind: str, dim: int):
    return shapely.from_wkt(f"{kind}{' Z' if dim == 3 else ''} EMPTY")


def _gml_geom(el, dim: int):
    name, dim = _local(el), int(el.get("srsDimension", dim))
    if name == "Point":
        c = _coords(el, dim)
        return shapely.Point(c[0]) if len(c) else _empty("POINT", dim)
    if name in ("LineString", "LinearRing", "LineStringSegment"):
        c = _coords(el, dim)
        return shapely.LineString(c) if len(c) else _empty("LINESTRING", dim)
    if name == "Curve":
        segs = [_coords(s, dim) for ss in el if _local(ss) == "segments" for s in ss]
        segs = [s if i == 0 else s[1:] for i, s in enumerate(segs)]
        return shapely.LineString(np.concatenate(segs)) if segs else _empty("LINESTRING", dim)
    if name in ("Polygon", "PolygonPatch"):
        shell = _rings(el, dim, ("exterior", "outerBoundaryIs"))
        if not shell:
            return _empty("POLYGON", dim)
        return shapely.Polygon(shell[0], _rings(el, dim, ("interior", "innerBoundaryIs")) or None)
    if name == "Surface":
        patches = [_gml_geom(p, dim) for ps in el if _local(ps) == "patches" for p in ps]
        return patches[0] if len(patches) == 1 else shapely.MultiPolygon(patches)
    parts = [_gml_geom(g, dim) for m in el if _local(m).endswith(("Member", "Members")) for g in m]
    if name == "MultiPoint":
        return shapely.MultiPoint(parts) if parts else _empty("MULTIPOINT", dim)
    if name in ("MultiCurve", "MultiLineString"):
        return shapely.MultiLineString(parts) if parts else _empty("MULTILINESTRING", dim)
    if name in ("MultiSurface", "MultiPolygon"):
        return shapely.MultiPolygon(parts) if parts else _empty("MULTIPOLYGON", dim)
    if name in ("MultiGeometry", "GeometryCollection"):
        return shapely.GeometryCollection(parts) if parts else _empty("GEOMETRYCOLLECTION", dim)
    raise ValueError(f"unsupported GML element gml:{name}")


@lru_cache(maxsize=256)
def _resolve_srs(name: str) -> tuple[str, bool]:
    legacy = _LEGACY_SRS.match(name)
    if legacy:  # "EPSG:n" and ".../epsg.xml#n" srsNames traditionally mean x/y order
        return crslib.crs_to_iri(f"EPSG:{legacy.group(1)}"), False
    return _resolve_iri(name)


def _read_gml(text: str):
    root = ET.fromstring(text)
    srs = root.get("srsName") or next((e.get("srsName") for e in root.iter() if e.get("srsName")), "")
    return _gml_geom(root, 2), srs


def parse_gml_literals(lexicals, on_invalid: str = "raise") -> tuple[np.ndarray, list]:
    """(geometries in x/y order, canonical CRS IRI per literal) from GML 3.2/3.1/2 literals.

    ``srsName`` gives the CRS (default CRS84); one ``xml.etree`` parse per literal is
    unavoidable, the axis swap is vectorised per CRS.  An empty literal is an empty geometry.
    """
    _check_mode(on_invalid)
    texts = _strings(lexicals)
    n = len(texts)
    geoms, srs = np.empty(n, object), np.empty(n, object)
    bad, reason = np.zeros(n, bool), ""
    empty = _blank(texts)
    geoms[empty], srs[empty] = EMPTY, ""
    for i, text in enumerate(texts.to_pylist()):
        if text is None or empty[i]:
            continue
        try:
            geoms[i], srs[i] = _read_gml(text)
        except (ET.ParseError, ValueError, IndexError, TypeError, GEOSException) as exc:
            bad[i], reason = True, reason or str(exc)
    iris, swap, unknown = _by_crs(pa.array(srs, pa.string()), _resolve_srs)
    return _finish("GML", texts, geoms, iris, swap, unknown, bad, on_invalid, reason,
                   "a GML literal is one gml:Point, gml:LineString, gml:Polygon, gml:Multi* or gml:MultiGeometry")


# -- GeoJSON (always CRS84 lon/lat) ------------------------------------------------------
def geojson_literals(geoms, crs) -> pa.StringArray:
    """GeoJSON lexical forms; geometries are reprojected to CRS84 first (M dropped)."""
    g = _geoms(geoms)
    if crs is not None and crslib.crs_to_iri(crs) != CRS84_IRI:
        g = crslib.reproject(g, crs, CRS84_IRI)
    return pa.array(shapely.to_geojson(g), pa.string())


def parse_geojson_literals(lexicals, on_invalid: str = "raise") -> np.ndarray:
    """CRS84 geometries from GeoJSON geometry lexical forms (an empty literal is an empty geometry)."""
    _check_mode(on_invalid)
    texts = _strings(lexicals)
    empty = _blank(texts)
    geoms = np.full(len(texts), None, object)
    if (~empty).any():
        geoms[~empty] = shapely.from_geojson(texts.filter(pa.array(~empty)).to_numpy(zero_copy_only=False),
                                             on_invalid="ignore")
    geoms[empty] = EMPTY
    bad = shapely.is_missing(geoms) & texts.is_valid().to_numpy(zero_copy_only=False)
    none = np.zeros(len(geoms), bool)
    return _finish("GeoJSON", texts, geoms, np.empty(len(geoms), object), none, none, bad, on_invalid,
                   "not a GeoJSON geometry", 'e.g. {"type":"Point","coordinates":[23.7,37.9]}')[0]


def literal_geometries(lexicals, datatype_iri: str, on_invalid: str = "raise") -> tuple[np.ndarray, list]:
    """(x/y geometries, CRS IRI per literal) for geo:wktLiteral, geo:gmlLiteral or geo:geoJSONLiteral."""
    if datatype_iri == WKT_LITERAL:
        return parse_wkt_literals(lexicals, on_invalid)
    if datatype_iri == GML_LITERAL:
        return parse_gml_literals(lexicals, on_invalid)
    if datatype_iri == GEOJSON_LITERAL:
        geoms = parse_geojson_literals(lexicals, on_invalid)
        return geoms, np.where(shapely.is_missing(geoms), None, CRS84_IRI).tolist()
    raise EolinkedError(f"<{datatype_iri}> is not a geometry literal datatype",
                        hint="use geo:wktLiteral, geo:gmlLiteral or geo:geoJSONLiteral")

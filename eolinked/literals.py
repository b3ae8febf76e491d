"""GeoSPARQL geometry literals (WKT, GML, GeoJSON): arrays of geometries in, arrays of lexical forms out.

Geometries are handled in the traditional x/y order of their CRS (lon/lat, easting/northing);
literals use the axis order the CRS's authority defines, as GeoSPARQL 1.1 requires.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.vocab import GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

GML_NS = "http://www.opengis.net/gml/3.2"
_PREFIX = r"^\s*(?:<(?P<iri>[^>]*)>)?\s*(?P<body>[\s\S]*?)\s*$"


def _to_authority_order(geoms, crs):
    return crslib.swap_xy(geoms) if crs is not None and crslib.is_northing_first(crs) else geoms


def _strings(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), pa.string())
    return values.cast(pa.string())


def wkt_literals(geoms, crs) -> pa.Array:
    """Lexical forms ``<IRI> WKT`` (no IRI for CRS84); nulls stay null."""
    geoms = np.asarray(geoms, dtype=object)
    iri = crslib.crs_to_iri(crs)
    arr = pa.array(exact_wkt(_to_authority_order(geoms, crs)), pa.string())
    if iri is None:
        raise EolinkedError(f"CRS {crslib.as_crs(crs).name!r} has no IRI",
                            hint="reproject to a CRS with an EPSG code (--target-crs)")
    if iri == crslib.CRS84_IRI:
        return arr
    return pc.binary_join_element_wise(f"<{iri}> ", arr, "")


def exact_wkt(geoms: np.ndarray) -> np.ndarray:
    """WKT that parses back to exactly the same coordinates.

    GEOS writes 16 decimal places, which is exact for coordinates of magnitude >= 1; geometries
    with a smaller non-zero coordinate are parsed back to check, and the few that differ are
    rewritten with Python's shortest exact floats.
    """
    wkt = shapely.to_wkt(geoms, rounding_precision=-1, trim=True)
    coords, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    small = np.abs(coords)
    small = ((small < 1) & (small > 0)).any(axis=1)
    risky = np.unique(index[small])
    if not len(risky):
        return wkt
    back = shapely.from_wkt(wkt[risky])
    bad = risky[~shapely.equals_exact(back, geoms[risky], tolerance=0)]
    for i in bad:
        wkt[i] = _python_wkt(geoms[i])
    return wkt


def _python_wkt(g) -> str:
    kind = shapely.get_type_id(g)
    z = bool(shapely.has_z(g))
    name = ["POINT", "LINESTRING", "LINEARRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING",
            "MULTIPOLYGON", "GEOMETRYCOLLECTION"][kind] + (" Z" if z else "")
    if shapely.is_empty(g):
        return name + " EMPTY"

    def seq(geom):
        coords = shapely.get_coordinates(geom, include_z=z)
        return "(" + ", ".join(" ".join(repr(float(v)) for v in c) for c in coords) + ")"

    def poly(p):
        rings = [shapely.get_exterior_ring(p)] + list(shapely.get_interior_ring(p, range(shapely.get_num_interior_rings(p))))
        return "(" + ", ".join(seq(r) for r in rings) + ")"

    if kind in (0, 1, 2):
        return f"{name} {seq(g)}"
    if kind == 3:
        return f"{name} {poly(g)}"
    parts = shapely.get_parts(g)
    if kind == 4:
        return f"{name} (" + ", ".join(seq(p) for p in parts) + ")"
    if kind == 5:
        return f"{name} (" + ", ".join(seq(p) for p in parts) + ")"
    if kind == 6:
        return f"{name} (" + ", ".join(poly(p) for p in parts) + ")"
    return f"{name} (" + ", ".join(_python_wkt(p) for p in parts) + ")"


def _split(lexicals):
    arr = _strings(lexicals)
    parts = pc.extract_regex(arr, _PREFIX)
    iris = pc.fill_null(pc.struct_field(parts, "iri"), "")
    iris = pc.if_else(pc.equal(iris, ""), crslib.CRS84_IRI, iris)
    iris = pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), iris)
    return arr, iris, pc.struct_field(parts, "body")


def parse_wkt_literals(lexicals, on_invalid: str = "raise"):
    """(geometries in x/y order, CRS IRI of each literal) from WKT literal lexical forms."""
    arr, iris, body = _split(lexicals)
    body_np = np.asarray(body.to_numpy(zero_copy_only=False), dtype=object)
    geoms = shapely.from_wkt(body_np, on_invalid="ignore")
    bad = (geoms == None) & (body_np != None)  # noqa: E711 (element-wise)
    if bad.any() and on_invalid == "raise":
        i = int(np.flatnonzero(bad)[0])
        text = str(arr[i].as_py())
        raise EolinkedError(f"invalid WKT literal at index {i}: {text[:80]!r}",
                            hint="a WKT literal is '<CRS IRI> WKT' or plain WKT, e.g. 'POINT (1 2)'")
    return _from_authority_order(geoms, iris), iris.to_pylist()


def _from_authority_order(geoms, iris: pa.Array):
    for iri in pc.unique(iris.drop_null()).to_pylist():
        crs = crslib.iri_to_crs(iri)
        if crslib.is_northing_first(crs):
            sel = pc.fill_null(pc.equal(iris, iri), False).to_numpy(zero_copy_only=False)
            geoms[sel] = crslib.swap_xy(geoms[sel])
    return geoms


# -- GML 3.2 --------------------------------------------------------------------
def _pos_list(coords: np.ndarray) -> str:
    return " ".join(repr(float(v)) for v in coords.ravel())


def _gml(g, srs: str, top: bool = True) -> str:
    """GML for one geometry; ring coordinates come from shapely arrays, the structure is recursive."""
    ns = f' xmlns:gml="{GML_NS}" srsName="{srs}"' if top else ""
    dim = f' srsDimension="{3 if shapely.has_z(g) else 2}"'
    kind = shapely.get_type_id(g)
    include_z = bool(shapely.has_z(g))
    if kind == 0:
        return f"<gml:Point{ns}{dim}><gml:pos>{_pos_list(shapely.get_coordinates(g, include_z=include_z))}</gml:pos></gml:Point>"
    if kind in (1, 2):
        return (f"<gml:LineString{ns}{dim}><gml:posList>{_pos_list(shapely.get_coordinates(g, include_z=include_z))}"
                "</gml:posList></gml:LineString>")
    if kind == 3:
        rings = [shapely.get_exterior_ring(g)] + list(shapely.get_interior_ring(g, range(shapely.get_num_interior_rings(g))))
        parts = []
        for i, ring in enumerate(rings):
            tag = "exterior" if i == 0 else "interior"
            parts.append(f"<gml:{tag}><gml:LinearRing><gml:posList>{_pos_list(shapely.get_coordinates(ring, include_z=include_z))}"
                         f"</gml:posList></gml:LinearRing></gml:{tag}>")
        return f"<gml:Polygon{ns}{dim}>{''.join(parts)}</gml:Polygon>"
    outer, member = {4: ("MultiPoint", "pointMember"), 5: ("MultiCurve", "curveMember"),
                     6: ("MultiSurface", "surfaceMember"), 7: ("MultiGeometry", "geometryMember")}[kind]
    members = "".join(f"<gml:{member}>{_gml(p, srs, False)}</gml:{member}>" for p in shapely.get_parts(g))
    return f"<gml:{outer}{ns}{dim}>{members}</gml:{outer}>"


def gml_literals(geoms, crs) -> pa.Array:
    """GML 3.2 lexical forms with ``srsName`` = the CRS IRI (one Python call per geometry)."""
    geoms = _to_authority_order(np.asarray(geoms, dtype=object), crs)
    srs = crslib.crs_to_iri(crs) or crslib.CRS84_IRI
    return pa.array([None if g is None else _gml(g, srs) for g in geoms], pa.string())


def _coords(text: str, dim: int) -> np.ndarray:
    return np.array(text.replace(",", " ").split(), dtype=float).reshape(-1, dim)


def _parse_gml_element(el, dim: int):
    tag = el.tag.split("}")[-1]
    dim = int(el.get("srsDimension", dim))

    def coords_of(node):
        for child in node.iter():
            t = child.tag.split("}")[-1]
            if t in ("posList", "coordinates"):
                return _coords(child.text or "", dim)
        return np.array([_coords(p.text, dim)[0] for p in node.iter() if p.tag.endswith("}pos")])

    if tag == "Point":
        return shapely.points(coords_of(el)[0])
    if tag in ("LineString", "Curve"):
        return shapely.linestrings(coords_of(el))
    if tag in ("Polygon", "Surface"):
        rings = [coords_of(r) for r in el.iter() if r.tag.split("}")[-1] in ("LinearRing",)]
        return shapely.polygons(rings[0], holes=rings[1:] or None)
    members = [c[0] for c in el if len(c)]
    parts = [_parse_gml_element(m, dim) for m in members]
    if tag == "MultiPoint":
        return shapely.multipoints(parts)
    if tag in ("MultiCurve", "MultiLineString"):
        return shapely.multilinestrings(parts)
    if tag in ("MultiSurface", "MultiPolygon"):
        return shapely.multipolygons(parts)
    return shapely.geometrycollections(parts)


def parse_gml_literals(lexicals):
    """(geometries in x/y order, CRS IRI of each) from GML literals (GML 3.2, 3.1 and 2 shapes)."""
    arr = _strings(lexicals)
    geoms, iris = [], []
    for i, text in enumerate(arr.to_pylist()):
        if text is None:
            geoms.append(None)
            iris.append(None)
            continue
        try:
            el = ET.fromstring(text)
            geoms.append(_parse_gml_element(el, 2))
        except (ET.ParseError, ValueError, IndexError) as exc:
            raise EolinkedError(f"invalid GML literal at index {i}: {exc}",
                                hint="a GML literal is one gml:Point, gml:LineString, gml:Polygon or gml:Multi* element") from None
        iris.append(el.get("srsName") or crslib.CRS84_IRI)
    geoms = np.array(geoms + [None], dtype=object)[:-1]
    return _from_authority_order(geoms, pa.array(iris, pa.string())), iris


# -- GeoJSON (always CRS84 lon/lat) ------------------------------------------------
def geojson_literals(geoms, crs) -> pa.Array:
    geoms = np.asarray(geoms, dtype=object)
    if crs is not None and crslib.crs_to_iri(crs) != crslib.CRS84_IRI:
        geoms = crslib.reproject(geoms, crs, crslib.iri_to_crs(crslib.CRS84_IRI))
    return pa.array(shapely.to_geojson(geoms), pa.string())


def parse_geojson_literals(lexicals) -> np.ndarray:
    arr = _strings(lexicals)
    try:
        return shapely.from_geojson(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object))
    except Exception as exc:  # GEOS reader errors
        raise EolinkedError(f"invalid GeoJSON literal: {exc}", hint="a GeoJSON literal is one geometry object") from None


def literal_geometries(lexicals, datatype: str):
    """(geometries, CRS IRIs) for literals of a geometry datatype."""
    if datatype == WKT_LITERAL:
        return parse_wkt_literals(lexicals)
    if datatype == GML_LITERAL:
        return parse_gml_literals(lexicals)
    if datatype == GEOJSON_LITERAL:
        geoms = parse_geojson_literals(lexicals)
        return geoms, [crslib.CRS84_IRI] * len(geoms)
    raise EolinkedError(f"<{datatype}> is not a geometry literal datatype",
                        hint="use geo:wktLiteral, geo:gmlLiteral or geo:geoJSONLiteral")

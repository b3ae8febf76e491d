"""Accessors and serialisations: getSRID, geometryType, dimensions, is*, min/max X/Y/Z, asWKT/GML/GeoJSON.

Also :func:`geometry_properties`, the GeoSPARQL geometry properties (geo:dimension,
geo:coordinateDimension, geo:spatialDimension, geo:isEmpty, geo:isSimple) derived from literals.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from eolinked.literals import geojson_literals, gml_literals
from eolinked.terms import Terms, to_nt
from eolinked.vocab import GEO, GEOF, GEOJSON_LITERAL, GML_LITERAL, SF

from ._core import (
    Geoms,
    anyuris,
    booleans,
    doubles,
    geometries,
    integers,
    literal_terms,
    wkt_terms,
)

_SF_TYPES = np.array([SF + t for t in ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                                       "MultiLineString", "MultiPolygon", "GeometryCollection")], object)


def get_srid(g: Terms) -> Terms:
    """geof:getSRID(geom) -> the CRS IRI as xsd:anyURI (GeoSPARQL 1.1)."""
    return anyuris(geometries(g).crs)


def geometry_type(g: Terms) -> Terms:
    """geof:geometryType(geom) -> the sf: class IRI as xsd:anyURI."""
    G = geometries(g)
    t = shapely.get_type_id(G.geom)
    return anyuris(np.where(G.ok, _SF_TYPES[np.clip(t, 0, 7)], None))


def _dimension(geom):
    return shapely.get_dimensions(geom)  # -1 (an empty collection: no dimension) is an error


def _is_simple(geom):
    return shapely.is_simple(geom) | shapely.is_empty(geom)  # GEOS says an empty collection is not


def _coordinate_dimension(geom):
    return 2 + shapely.has_z(geom).astype(int) + shapely.has_m(geom).astype(int)


def _spatial_dimension(geom):
    return 2 + shapely.has_z(geom).astype(int)


def _ints(fn, G: Geoms) -> Terms:
    value = np.where(G.ok, fn(G.geom), 0)
    return integers(value, G.ok & (value >= 0))


def _bools(fn, G: Geoms) -> Terms:
    value = np.zeros(len(G), bool)
    value[G.ok] = fn(G.geom[G.ok])
    return booleans(value, G.ok)


def _int_fn(fn):
    return lambda g: _ints(fn, geometries(g))


def _bool_fn(fn):
    return lambda g: _bools(fn, geometries(g))


def _bound(column: int):
    def f(g: Terms) -> Terms:
        G = geometries(g)
        return doubles(shapely.bounds(G.geom)[:, column], G.ok)
    return f


def _z(reduce, start: float):
    def f(g: Terms) -> Terms:
        G = geometries(g)
        ok = G.ok & shapely.has_z(G.geom) & ~shapely.is_empty(G.geom)
        xyz, idx = shapely.get_coordinates(G.geom[ok], include_z=True, return_index=True)
        part = np.full(int(ok.sum()), start)
        reduce.at(part, idx, xyz[:, 2])
        out = np.full(len(G), np.nan)
        out[ok] = part
        return doubles(out, ok)
    return f


def as_wkt(g: Terms) -> Terms:
    """geof:asWKT(geom): the geometry as a geo:wktLiteral in its own CRS."""
    return wkt_terms(geometries(g))


def _by_crs(G: Geoms, writer) -> np.ndarray:
    out = np.full(len(G), None, object)
    for iri in set(G.crs[G.ok].tolist()):
        sel = G.ok & (G.crs == iri)
        out[sel] = writer(G.geom[sel], iri).to_numpy(zero_copy_only=False)
    return out


def as_gml(g: Terms) -> Terms:
    """geof:asGML(geom): a GML 3.2 geo:gmlLiteral in the geometry's CRS (M dropped)."""
    return literal_terms(_by_crs(geometries(g), gml_literals), GML_LITERAL)


def as_geojson(g: Terms) -> Terms:
    """geof:asGeoJSON(geom): a geo:geoJSONLiteral, always in CRS84 (RFC 7946)."""
    return literal_terms(_by_crs(geometries(g), geojson_literals), GEOJSON_LITERAL)


FUNCTIONS = {
    GEOF + "getSRID": get_srid,
    GEOF + "geometryType": geometry_type,
    GEOF + "dimension": _int_fn(_dimension),
    GEOF + "coordinateDimension": _int_fn(_coordinate_dimension),
    GEOF + "spatialDimension": _int_fn(_spatial_dimension),
    GEOF + "numGeometries": _int_fn(shapely.get_num_geometries),
    GEOF + "is3D": _bool_fn(shapely.has_z),
    GEOF + "isMeasured": _bool_fn(shapely.has_m),
    GEOF + "isEmpty": _bool_fn(shapely.is_empty),
    GEOF + "isSimple": _bool_fn(_is_simple),
    GEOF + "minX": _bound(0), GEOF + "minY": _bound(1), GEOF + "maxX": _bound(2), GEOF + "maxY": _bound(3),
    GEOF + "minZ": _z(np.minimum, np.inf), GEOF + "maxZ": _z(np.maximum, -np.inf),
    GEOF + "asWKT": as_wkt,
    GEOF + "asGML": as_gml,
    GEOF + "asGeoJSON": as_geojson,
}

_PROPERTIES = {
    GEO + "dimension": (_ints, _dimension), GEO + "coordinateDimension": (_ints, _coordinate_dimension),
    GEO + "spatialDimension": (_ints, _spatial_dimension), GEO + "isEmpty": (_bools, shapely.is_empty),
    GEO + "isSimple": (_bools, _is_simple),
}


def geometry_properties(lexicals, datatypes) -> dict[str, pa.Array]:
    """GeoSPARQL geometry properties of geometry literals, as canonical N-Triples text.

    ``lexicals`` are lexical forms, ``datatypes`` their datatype IRIs (an array, or one string);
    returns ``{geo:dimension IRI: nt array, ...}`` for geo:dimension, geo:coordinateDimension,
    geo:spatialDimension, geo:isEmpty and geo:isSimple; null where the literal is not a
    readable geometry.
    """
    G = geometries(Terms.literals(lexicals, datatype=datatypes))
    return {prop: to_nt(kind(fn, G)) for prop, (kind, fn) in _PROPERTIES.items()}

"""geo:kmlLiteral (GeoSPARQL 1.1): KML 2.2 geometries, always WGS84 lon/lat (CRS84).

Reading only: one ``xml.etree`` parse per distinct literal (XML cannot be parsed column-wise).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import shapely
from shapely.errors import GEOSException

from eolinked.crs import CRS84_IRI

KML_NS = "http://www.opengis.net/kml/2.2"


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _coords(el) -> np.ndarray:
    node = next((c for c in el.iter() if _local(c) == "coordinates"), None)
    tuples = (node.text or "").split() if node is not None else []
    rows = [[float(v) for v in t.split(",")] for t in tuples]
    dim = max((len(r) for r in rows), default=2)
    if any(len(r) != dim for r in rows) or dim not in (2, 3):
        raise ValueError("KML coordinates must all be lon,lat or all lon,lat,alt")
    return np.array(rows, float).reshape(-1, dim)


def _ring(el, name: str) -> list[np.ndarray]:
    return [_coords(r) for b in el if _local(b) == name for r in b if _local(r) == "LinearRing"]


def _geom(el):
    name = _local(el)
    if name == "Point":
        c = _coords(el)
        return shapely.Point(c[0]) if len(c) else shapely.from_wkt("POINT EMPTY")
    if name in ("LineString", "LinearRing"):
        return shapely.LineString(_coords(el))
    if name == "Polygon":
        shell = _ring(el, "outerBoundaryIs")
        return shapely.Polygon(shell[0], _ring(el, "innerBoundaryIs") or None) if shell else \
            shapely.from_wkt("POLYGON EMPTY")
    if name == "MultiGeometry":
        parts = [_geom(c) for c in el]
        kinds = {p.geom_type for p in parts}
        multi = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString,
                 "Polygon": shapely.MultiPolygon}
        if len(kinds) == 1 and next(iter(kinds)) in multi:
            return multi[next(iter(kinds))](parts)
        return shapely.GeometryCollection(parts)
    raise ValueError(f"unsupported KML element {name}")


def parse_kml_literals(lexicals: pa.Array) -> tuple[np.ndarray, list]:
    """(CRS84 geometries, CRS IRIs) from KML geometry literals; unreadable ones give None."""
    texts = lexicals.to_pylist()
    geoms = np.full(len(texts), None, object)
    for i, text in enumerate(texts):
        if text is None:
            continue
        try:
            geoms[i] = _geom(ET.fromstring(text))
        except (ET.ParseError, ValueError, IndexError, TypeError, GEOSException):
            geoms[i] = None
    return geoms, [CRS84_IRI if g is not None else None for g in geoms]

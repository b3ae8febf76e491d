"""Spatial FILTERs that the SQL engine runs natively: a Simple Features relation between a
geometry variable and a constant (bounding-box pruning, then the exact test) or between two
variables (a spatial join).  Everything else goes through the GeoSPARQL UDFs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely
from rdflib import Literal, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked import crs as crslib
from eolinked.literals import literal_geometries
from eolinked.vocab import GEOF, GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

# geof: relation -> (SQL function, whether a true result implies the MBRs overlap)
RELATIONS = {
    "sfIntersects": ("ST_Intersects", True), "sfWithin": ("ST_Within", True),
    "sfContains": ("ST_Contains", True), "sfTouches": ("ST_Touches", True),
    "sfCrosses": ("ST_Crosses", True), "sfOverlaps": ("ST_Overlaps", True),
    "sfEquals": ("ST_Equals", True), "ehEquals": ("ST_Equals", True), "rcc8eq": ("ST_Equals", True),
    "ehMeet": ("ST_Touches", True), "rcc8ec": ("ST_Touches", True),
    "ehCovers": ("ST_Covers", True), "ehCoveredBy": ("ST_CoveredBy", True),
}
GEOMETRY_TYPES = {WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL}


@dataclass
class SpatialTest:
    sql_function: str
    var_a: str
    var_b: str | None           # second variable, or None for a constant
    constant: object = None      # shapely geometry in CRS84
    prune: bool = True


def classify(conjunct, id_vars: set[str]) -> SpatialTest | None:
    """A SpatialTest if the FILTER conjunct is a native relation over id-bound variables."""
    if not (isinstance(conjunct, CompValue) and conjunct.name == "Function"):
        return None
    iri = str(conjunct.iri)
    if not iri.startswith(GEOF) or iri[len(GEOF):] not in RELATIONS or len(conjunct.expr) != 2:
        return None
    fn, prune = RELATIONS[iri[len(GEOF):]]
    a, b = conjunct.expr
    if isinstance(a, Variable) and str(a) in id_vars:
        if isinstance(b, Variable) and str(b) in id_vars and str(b) != str(a):
            return SpatialTest(fn, str(a), str(b), prune=prune)
        geom = constant_geometry(b)
        if geom is not None:
            return SpatialTest(fn, str(a), None, geom, prune)
    if isinstance(b, Variable) and str(b) in id_vars:
        geom = constant_geometry(a)
        if geom is not None:  # relation(const, ?b): swap the arguments of the converse relation
            converse = {"ST_Within": "ST_Contains", "ST_Contains": "ST_Within",
                        "ST_Covers": "ST_CoveredBy", "ST_CoveredBy": "ST_Covers"}.get(fn, fn)
            return SpatialTest(converse, str(b), None, geom, prune)
    return None


def constant_geometry(term):
    """A geometry literal constant -> shapely geometry in CRS84, or None if it is not one."""
    if not isinstance(term, Literal) or str(term.datatype) not in GEOMETRY_TYPES:
        return None
    geoms, iris = literal_geometries(pa.array([str(term)]), str(term.datatype), on_invalid="null")
    if geoms[0] is None or shapely.is_empty(geoms[0]):
        return None
    out = crslib.reproject(np.array([geoms[0]], dtype=object), iris[0], crslib.CRS84_IRI)
    return out[0]


def constant_sql(test: SpatialTest, alias: str) -> str:
    """Join condition of a geometry-table alias against the test's constant."""
    wkt = shapely.to_wkt(test.constant, rounding_precision=-1)
    parts = []
    if test.prune:
        minx, miny, maxx, maxy = (float(x) for x in shapely.bounds(test.constant))
        parts.append(f"{alias}.maxx >= {minx!r} AND {alias}.minx <= {maxx!r} AND "
                     f"{alias}.maxy >= {miny!r} AND {alias}.miny <= {maxy!r}")
    parts.append(f"{test.sql_function}({alias}.geom, ST_GeomFromText('{wkt}'))")
    return " AND ".join(parts)

"""Spatial FILTERs that the SQL engine runs natively: a Simple Features relation between a
geometry variable and a constant (bounding-box pruning, then the exact test) or between two
variables (a spatial join).  Everything else goes through the GeoSPARQL UDFs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely
from rdflib import Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked import crs as crslib
from eolinked.literals import literal_geometries
from eolinked.vocab import GEO, GEOF, GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

# DE-9IM patterns of the GeoSPARQL relation families (GeoSPARQL 1.0, tables 4-6);
# alternatives are separated by "|".
PATTERNS = {
    "sfEquals": "TFFFTFFFT", "sfDisjoint": "FF*FF****", "sfIntersects": "T********|*T*******|***T*****|****T****",
    "sfTouches": "FT*******|F**T*****|F***T****", "sfWithin": "T*F**F***", "sfContains": "T*****FF*",
    "sfOverlaps": "T*T***T**", "sfCrosses": "T*T******",
    "ehEquals": "TFFFTFFFT", "ehDisjoint": "FF*FF****", "ehMeet": "FT*******|F**T*****|F***T****",
    "ehOverlap": "T*T***T**", "ehCovers": "T*TFT*FF*", "ehCoveredBy": "TFF*TFT**", "ehInside": "TFF*FFT**",
    "ehContains": "T*TFF*FF*",
    "rcc8eq": "TFFFTFFFT", "rcc8dc": "FFTFFTTTT", "rcc8ec": "FFTFTTTTT", "rcc8po": "TTTTTTTTT",
    "rcc8tppi": "TTTFTTFFT", "rcc8tpp": "TFFTTFTTT", "rcc8ntpp": "TFFTFFTTT", "rcc8ntppi": "TTTFFTFFT",
}
# relations SQL has as a function of its own (and the spatial join operator recognises)
_NATIVE = {"sfIntersects": "ST_Intersects", "sfWithin": "ST_Within", "sfContains": "ST_Contains",
           "sfTouches": "ST_Touches", "sfCrosses": "ST_Crosses", "sfOverlaps": "ST_Overlaps",
           "sfEquals": "ST_Equals", "ehEquals": "ST_Equals", "rcc8eq": "ST_Equals",
           "ehMeet": "ST_Touches", "rcc8ec": "ST_Touches", "sfDisjoint": "ST_Disjoint",
           "ehDisjoint": "ST_Disjoint", "rcc8dc": "ST_Disjoint"}
_DISJOINT = {"sfDisjoint", "ehDisjoint", "rcc8dc"}


def relation_sql(name: str, a: str, b: str) -> str:
    """SQL condition: relation ``name`` holds between geometry expressions ``a`` and ``b``."""
    if name in _NATIVE:
        return f"{_NATIVE[name]}({a}, {b})"
    matrix = f"ST_Relate({a}, {b})"
    return f"(ST_Intersects({a}, {b}) AND ({_matches(matrix, PATTERNS[name])}))"


def _matches(matrix: str, patterns: str) -> str:
    """A DE-9IM pattern test on the matrix string, as a regular expression (T = 0, 1 or 2)."""
    regex = "|".join("^" + "".join({"T": "[012]", "*": "."}.get(ch, ch) for ch in p) + "$"
                     for p in patterns.split("|"))
    return f"regexp_like({matrix}, '{regex}')"


GEOMETRY_TYPES = {WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL}


@dataclass
class SpatialTest:
    relation: str                # geof: local name, e.g. "sfWithin"
    var_a: str
    var_b: str | None            # second variable, or None for a constant
    constant: object = None      # shapely geometry in CRS84

    @property
    def prune(self) -> bool:
        return self.relation not in _DISJOINT

    def sql(self, a: str, b: str) -> str:
        return relation_sql(self.relation, a, b)


def classify(conjunct, id_vars: set[str]) -> SpatialTest | None:
    """A SpatialTest if the FILTER conjunct is a native relation over id-bound variables."""
    if not (isinstance(conjunct, CompValue) and conjunct.name == "Function"):
        return None
    iri = str(conjunct.iri)
    name = iri[len(GEOF):]
    if not iri.startswith(GEOF) or name not in PATTERNS or len(conjunct.expr) != 2:
        return None
    a, b = conjunct.expr
    if isinstance(a, Variable) and str(a) in id_vars:
        if isinstance(b, Variable) and str(b) in id_vars and str(b) != str(a):
            return SpatialTest(name, str(a), str(b))
        geom = constant_geometry(b)
        if geom is not None:
            return SpatialTest(name, str(a), None, geom)
    if isinstance(b, Variable) and str(b) in id_vars and name in CONVERSE:
        geom = constant_geometry(a)
        if geom is not None:  # relation(const, ?b) is the converse relation of (?b, const)
            return SpatialTest(CONVERSE[name], str(b), None, geom)
    return None


_SYMMETRIC = ["sfEquals", "sfDisjoint", "sfIntersects", "sfTouches", "sfOverlaps", "sfCrosses", "ehEquals",
              "ehDisjoint", "ehMeet", "ehOverlap", "rcc8eq", "rcc8dc", "rcc8ec", "rcc8po"]
CONVERSE = {**{n: n for n in _SYMMETRIC}, "sfWithin": "sfContains", "sfContains": "sfWithin",
            "ehCovers": "ehCoveredBy", "ehCoveredBy": "ehCovers", "ehInside": "ehContains",
            "ehContains": "ehInside", "rcc8tpp": "rcc8tppi", "rcc8tppi": "rcc8tpp", "rcc8ntpp": "rcc8ntppi",
            "rcc8ntppi": "rcc8ntpp"}


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
    parts.append(test.sql(f"{alias}.geom", f"ST_GeomFromText('{wkt}')"))
    return " AND ".join(parts)


# -- the GeoSPARQL query-rewrite rule: geo:sfIntersects & co. between features and geometries ---------
_SERIALISATIONS = ("asWKT", "asGML", "asGeoJSON")
_GEOMETRY_LINKS = ("hasDefaultGeometry",)


def is_relation_property(p) -> bool:
    return isinstance(p, URIRef) and str(p).startswith(GEO) and str(p)[len(GEO):] in PATTERNS


def rewrite_sql(cat, iri: str) -> str:
    """(s, o, g) of a geo: relation property under entailment: the asserted triples plus every
    pair of spatial objects (geometries, and features through geo:hasDefaultGeometry, as in
    GeoSPARQL's query-rewrite rules) whose geometries satisfy the relation (default graph)."""
    ids = {n: cat.term_id(f"<{GEO}{n}>") for n in (*_SERIALISATIONS, *_GEOMETRY_LINKS, iri[len(GEO):])}
    ser = [str(i) for n in _SERIALISATIONS if (i := ids[n]) is not None]
    links = [str(i) for n in _GEOMETRY_LINKS if (i := ids[n]) is not None]
    pid = ids[iri[len(GEO):]]
    asserted = f"SELECT s, o, g FROM quads WHERE p = {pid}" if pid is not None else None
    if not ser:
        return asserted or "SELECT CAST(NULL AS BIGINT) AS s, CAST(NULL AS BIGINT) AS o, " \
                           "CAST(NULL AS BIGINT) AS g WHERE FALSE"
    geoms = (f"SELECT t.s AS s, gm.geom AS geom FROM quads t JOIN geoms gm ON gm.id = t.o "
             f"WHERE t.g IS NULL AND t.p IN ({', '.join(ser)})")
    if links:
        geoms += (f" UNION ALL SELECT h.s AS s, gm.geom AS geom FROM quads h JOIN quads t ON t.s = h.o "
                  f"JOIN geoms gm ON gm.id = t.o WHERE h.g IS NULL AND t.g IS NULL AND "
                  f"h.p IN ({', '.join(links)}) AND t.p IN ({', '.join(ser)})")
    name = iri[len(GEO):]
    computed = (f"SELECT DISTINCT a.s AS s, b.s AS o, CAST(NULL AS BIGINT) AS g FROM ({geoms}) a "
                f"JOIN ({geoms}) b ON {relation_sql(name, 'a.geom', 'b.geom')}")
    return f"{asserted} UNION {computed}" if asserted else computed

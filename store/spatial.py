"""Spatial candidates: which FILTER conditions let the planner prune pairs by bounding box.

One spatial semantics: the exact answer of every relation and distance is always the GeoSPARQL
function library's (GEOS through shapely, pyproj for metres), the same code that BIND and
SELECT expressions run.  The SQL engine only narrows the pairs it is asked about: a FILTER
conjunct that implies "the bounding boxes (widened for a distance) overlap" becomes a
:class:`Candidate`; the planner joins on box overlap (SedonaDB's spatial join over envelope
rectangles, or bbox columns against a constant) and the conjunct itself stays as the exact
filter on top.  No engine predicate ever decides.

Envelopes are padded by ``_PAD`` degrees so that boxes that only touch, and degenerate boxes of
points and axis-parallel lines, still overlap; an empty geometry's envelope is a far-away box, so
empty meets empty (sfEquals of two empties is true) and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely
from rdflib import Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked import crs as crslib
from eolinked.geosparql._core import UNITS
from eolinked.geosparql.geodesy import WIDEN_R, WIDEN_SLACK
from eolinked.literals import literal_geometries
from eolinked.vocab import GEO, GEOF, GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

# DE-9IM patterns of the GeoSPARQL relation families (GeoSPARQL 1.0, tables 4-6)
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
GEOMETRY_TYPES = {WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL}
_PAD = 1e-9            # degrees added around every envelope
_FAR = 1e12            # where empty geometries' envelopes sit
SLACK = WIDEN_SLACK    # on distances in a geographic CRS
PROJECTED_SLACK = 2.0  # on metres of a projected CRS (its scale factor is assumed >= 0.5)
_DATUM_DEGREES = 0.01  # datum shifts between geographic CRSs, for uom:degree distances


def needs_intersection(pattern: str) -> bool:
    """True if every matrix matching the DE-9IM pattern(s) has intersecting geometries."""
    return all(any(p[i] not in "F*" for i in (0, 1, 3, 4)) for p in pattern.upper().split("|"))


@dataclass
class Candidate:
    """A FILTER conjunct that implies box overlap of ``var_a`` with ``var_b`` or a constant."""

    var_a: str
    var_b: str | None = None
    constant: object = None        # shapely geometry in CRS84 (maybe empty)
    metres: float = 0.0            # widening, geodesic metres
    degrees: float = 0.0           # widening, degrees

    @property
    def vars(self) -> set[str]:
        return {self.var_a} | ({self.var_b} if self.var_b else set())


def classify(conjunct, id_vars=None) -> Candidate | None:
    """The Candidate a FILTER conjunct gives, or None; ``id_vars`` limits the variables."""
    found = _relation(conjunct) if _is_function(conjunct) else _distance(conjunct)
    if found is None or (id_vars is not None and not found.vars <= set(id_vars)):
        return None
    return found


def _is_function(node) -> bool:
    return isinstance(node, CompValue) and node.name == "Function" and str(node.iri).startswith(GEOF)


def _relation(node) -> Candidate | None:
    name, args = str(node.iri)[len(GEOF):], list(node.expr or [])
    if name == "relate" and len(args) == 3 and isinstance(args[2], Literal):
        pattern = str(args[2])
        if len(pattern) != 9 or not needs_intersection(pattern):
            return None
    elif name not in PATTERNS or len(args) != 2 or not needs_intersection(PATTERNS[name]):
        return None
    return _pair(args[0], args[1])


def _pair(a, b, **widen) -> Candidate | None:
    if isinstance(a, Variable) and isinstance(b, Variable):
        return Candidate(str(a), str(b), **widen) if a != b else None
    var, const = (a, b) if isinstance(a, Variable) else (b, a)
    if not isinstance(var, Variable):
        return None
    geom = constant_geometry(const)
    return None if geom is None else Candidate(str(var), None, geom, **widen)


def _distance(node) -> Candidate | None:
    """``distance(a, b, unit) <= d`` (also <, and d >= / > distance(...)) with a constant d."""
    if not (isinstance(node, CompValue) and node.name == "RelationalExpression"):
        return None
    op, left, right = node.op, node.expr, node.other
    if op in (">", ">="):
        left, right = right, left
    elif op not in ("<", "<="):
        return None
    if not (_is_function(left) and isinstance(right, Literal)):
        return None
    try:
        limit = float(right.toPython())
    except (TypeError, ValueError):
        return None
    name, args = str(left.iri)[len(GEOF):], list(left.expr or [])
    if name == "metricDistance" and len(args) == 2:
        unit = ("linear", 1.0)
    elif name == "distance" and len(args) == 3 and isinstance(args[2], URIRef):
        unit = UNITS.get(str(args[2]))
    else:
        return None
    if unit is None or not np.isfinite(limit):
        return None
    amount = max(limit, 0.0) * unit[1]
    widen = {"metres": amount} if unit[0] == "linear" else {"degrees": amount}
    return _pair(args[0], args[1], **widen)


def constant_geometry(term):
    """A geometry literal constant -> shapely geometry in CRS84 (empty allowed), else None."""
    if not isinstance(term, Literal) or str(term.datatype) not in GEOMETRY_TYPES:
        return None
    geoms, iris = literal_geometries(pa.array([str(term)]), str(term.datatype), on_invalid="null")
    if geoms[0] is None:
        return None
    if shapely.is_empty(geoms[0]):
        return geoms[0]
    return crslib.reproject(np.array([geoms[0]], dtype=object), iris[0], crslib.CRS84_IRI)[0]


# -- SQL ------------------------------------------------------------------------------------
def _num(x: float) -> str:
    return repr(float(x))


def box_sql(minx: str, miny: str, maxx: str, maxy: str, scale: str, c: Candidate) -> list[str]:
    """SQL (minx, miny, maxx, maxy) of a CRS84 box widened for ``c``'s distance and padded.

    Metres: the margins of :func:`eolinked.geosparql.geodesy.widen_bounds`, computed per row in
    SQL (a latitude margin d/R and a longitude margin asin(sin(d/R) / cos(phi)) at the widened
    box's most poleward latitude phi; all longitudes near a pole); ``scale`` multiplies d per
    row: the slack for geographic CRSs, more for projected ones.  Degrees widen both axes."""
    pad = _num(_PAD)
    if c.metres > 0:
        d = f"({_num(c.metres)} * {scale} / {_num(WIDEN_R)})"
        dlat = f"degrees({d})"
        lo, hi = f"({miny} - {dlat})", f"({maxy} + {dlat})"
        phi = f"radians(least(greatest(abs({lo}), abs({hi})), 90.0))"
        ratio = f"(sin(least({d}, pi() / 2)) / greatest(cos({phi}), 1e-12))"
        dlon = f"(CASE WHEN {ratio} < 1 AND {d} < pi() / 2 THEN degrees(asin({ratio})) ELSE 360.0 END)"
        return [f"({minx} - {dlon} - {pad})", f"({lo} - {pad})", f"({maxx} + {dlon} + {pad})", f"({hi} + {pad})"]
    w = f"({_num(c.degrees * SLACK + (_DATUM_DEGREES if c.degrees else 0))} + {pad})"
    return [f"({minx} - {w})", f"({miny} - {w})", f"({maxx} + {w})", f"({maxy} + {w})"]


def envelope_sql(alias: str, c: Candidate) -> str:
    """The widened envelope rectangle of a ``geoms`` row (far away when the geometry is empty)."""
    box = box_sql(f"{alias}.minx", f"{alias}.miny", f"{alias}.maxx", f"{alias}.maxy", f"{alias}.scale", c)
    far = (_FAR, _FAR, _FAR + 1, _FAR + 1)
    corners = ", ".join(f"CASE WHEN {alias}.empty THEN {_num(f)} ELSE {b} END" for f, b in zip(far, box))
    return f"ST_MakeEnvelope({corners})"


def constant_sql(c: Candidate, alias: str) -> str:
    """Join condition: the ``geoms`` row ``alias`` can satisfy ``c`` against its constant."""
    if shapely.is_empty(c.constant):
        return f"{alias}.empty"
    minx, miny, maxx, maxy = (_num(v) for v in shapely.bounds(c.constant))
    # widen the data row (its own CRS decides the slack): the box test is symmetric
    bx = box_sql(f"{alias}.minx", f"{alias}.miny", f"{alias}.maxx", f"{alias}.maxy", f"{alias}.scale", c)
    return (f"NOT {alias}.empty AND {bx[2]} >= {minx} AND {bx[0]} <= {maxx} AND "
            f"{bx[3]} >= {miny} AND {bx[1]} <= {maxy}")


def envelopes_meet(a: str, b: str) -> str:
    return f"ST_Intersects({a}, {b})"


# -- the GeoSPARQL query-rewrite rule: geo:sfIntersects & co. between features and geometries ---------
_SERIALISATIONS = ("asWKT", "asGML", "asGeoJSON")
_GEOMETRY_LINKS = ("hasDefaultGeometry",)


def is_relation_property(p) -> bool:
    return isinstance(p, URIRef) and str(p).startswith(GEO) and str(p)[len(GEO):] in PATTERNS


def rewrite_sql(cat, iri: str, s_id: int | None = None, o_id: int | None = None) -> str:
    """(s, o, g) of a geo: relation property under entailment: the asserted triples plus every
    pair of spatial objects (geometries, and features through geo:hasDefaultGeometry, as in
    GeoSPARQL's query-rewrite rules) whose geometries satisfy the relation (default graph).
    The pairs are found by envelope overlap where the relation needs intersecting geometries,
    and decided by the geof: function itself; ``s_id`` / ``o_id`` bind a side to a constant."""
    name = iri[len(GEO):]
    ids = {n: cat.term_id(f"<{GEO}{n}>") for n in (*_SERIALISATIONS, *_GEOMETRY_LINKS, name)}
    ser = [str(i) for n in _SERIALISATIONS if (i := ids[n]) is not None]
    links = [str(i) for n in _GEOMETRY_LINKS if (i := ids[n]) is not None]
    pid = ids[name]
    bound = "".join(f" AND {pos} = {tid}" for pos, tid in (("s", s_id), ("o", o_id)) if tid is not None)
    asserted = f"SELECT s, o, g FROM quads WHERE p = {pid}{bound}" if pid is not None else None
    if not ser:
        return asserted or "SELECT CAST(NULL AS BIGINT) AS s, CAST(NULL AS BIGINT) AS o, " \
                           "CAST(NULL AS BIGINT) AS g WHERE FALSE"
    prune = needs_intersection(PATTERNS[name])
    c = Candidate("a")

    def side(const_id):
        objs = (f"SELECT t.s AS s, t.o AS lit FROM quads t WHERE t.g IS NULL AND t.p IN ({', '.join(ser)})")
        if links:
            objs += (f" UNION ALL SELECT h.s AS s, t.o AS lit FROM quads h JOIN quads t ON t.s = h.o "
                     f"WHERE h.g IS NULL AND t.g IS NULL AND h.p IN ({', '.join(links)}) "
                     f"AND t.p IN ({', '.join(ser)})")
        where = f" WHERE x.s = {const_id}" if const_id is not None else ""
        env = f", {envelope_sql('gm', c)} AS env" if prune else ""
        return f"SELECT x.s, x.lit{env} FROM ({objs}) x JOIN geoms gm ON gm.id = x.lit{where}"

    join = f"JOIN ({side(o_id)}) b ON {envelopes_meet('a.env', 'b.env')}" if prune else f"CROSS JOIN ({side(o_id)}) b"
    computed = (f"SELECT DISTINCT a.s AS s, b.s AS o, CAST(NULL AS BIGINT) AS g FROM ({side(s_id)}) a "
                f"{join} WHERE spb('{GEOF}{name}', a.lit, b.lit)")
    return f"{asserted} UNION {computed}" if asserted else computed

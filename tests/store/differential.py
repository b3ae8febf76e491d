"""Differential testing of the store against pyoxigraph on random data and random queries.

* :func:`make_dataset` builds a seeded random dataset: features with CRS84 geometries of every
  type on a small dyadic grid (so that polygons touch along edges and at vertices, nest, overlap
  and repeat exactly), a few in EPSG:4326 (lat/lon) and in projected CRSs (EPSG:32632,
  EPSG:3857), empty and unparsable literals, typed, language-tagged and non-canonical literals,
  IRIs with characters that prefixed names must escape, blank nodes and two named graphs;
  written as N-Quads or TriG.
* :class:`QueryGenerator` writes seeded random SPARQL 1.1 + GeoSPARQL queries from a small
  grammar (constants in every lexical form, OPTIONAL / UNION / MINUS / FILTER / EXISTS / BIND /
  VALUES / subqueries / GRAPH / aggregates / property paths / ORDER BY + LIMIT, and GeoSPARQL
  relations and distances in FILTER, BIND and OPTIONAL, against constants and between
  variables, combined with other conditions).
* :class:`Reference` implements the ``geof:`` functions for pyoxigraph's ``custom_functions``
  with shapely and pyproj only (no eolinked code): relations from the DE-9IM matrix and the
  GeoSPARQL 1.0 tables, ``geof:distance`` in ``uom:metre`` as the geodesic minimum distance on
  WGS84 (densified point sets, :func:`geodesic_distance`) and in ``uom:degree`` as planar lon/lat.
* :func:`run` loads one dataset into both stores, runs the queries and returns every divergence;
  ``python -m tests.store.differential --queries 5000 --seed N`` prints them.

Answers are compared as multisets of rows of normalised terms (:func:`_norm_parsed`): blank
nodes by the ``ex:bid`` every data blank node carries, numbers by value (pyoxigraph stores numbers
by value, see README "Conformance"), language tags in lower case, GROUP_CONCAT pieces sorted; in
order only where the generator made the order total (ORDER BY every projected variable, all of
kinds whose SPARQL order is defined).
"""
from __future__ import annotations

import argparse
import logging
import os
import pickle
import select
import struct
import subprocess
import math
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from eolinked.errors import QueryTimeout
import pyoxigraph as ox
import pyproj
import shapely

EX = "http://example.org/"
GEO = "http://www.opengis.net/ont/geosparql#"
GEOF = "http://www.opengis.net/def/function/geosparql/"
UOM = "http://www.opengis.net/def/uom/OGC/1.0/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
WKT = GEO + "wktLiteral"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

# ---------------------------------------------------------------------------------------------
# the dataset

UNIT = 1 / 128  # grid step in degrees: every coordinate is exact in binary and in decimal
LON0, LAT0 = 10.0, 45.0
GRID = 24  # the CRS84 geometries live in [0, GRID] units
PROJECTED = {  # native grid of each projected CRS: origin and unit (metres)
    32632: (580000.0, 4990000.0, 500.0),
    3857: (1113200.0, 5621600.0, 800.0),
}


def _num(v: float) -> str:
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


def _coords(seq, xy) -> str:
    return ", ".join(" ".join(_num(c) for c in xy(x, y)) for x, y in seq)


def wkt_text(g, xy=lambda x, y: (x, y), spaced: bool = True) -> str:
    """WKT of a shapely geometry with coordinates mapped by ``xy`` (our own writer: exact
    coordinates, axis swaps, and two spacing styles)."""
    t = g.geom_type.upper()
    sp = " " if spaced else ""
    if g.is_empty:
        return f"{t} EMPTY"
    if t == "POINT":
        return f"POINT{sp}({_coords(g.coords, xy)})"
    if t == "LINESTRING":
        return f"LINESTRING{sp}({_coords(g.coords, xy)})"
    if t == "POLYGON":
        rings = [g.exterior, *g.interiors]
        return f"POLYGON{sp}(" + ", ".join(f"({_coords(r.coords, xy)})" for r in rings) + ")"
    if t == "MULTIPOINT":
        return f"MULTIPOINT{sp}(" + ", ".join(f"({_coords(p.coords, xy)})" for p in g.geoms) + ")"
    if t in ("MULTILINESTRING", "MULTIPOLYGON"):
        inner = [wkt_text(p, xy, spaced)[len(p.geom_type):].strip() for p in g.geoms]
        return f"{t}{sp}(" + ", ".join(inner) + ")"
    if t == "GEOMETRYCOLLECTION":
        return f"GEOMETRYCOLLECTION{sp}(" + ", ".join(wkt_text(p, xy, spaced) for p in g.geoms) + ")"
    raise ValueError(t)


def _ll(x, y):
    return LON0 + x * UNIT, LAT0 + y * UNIT


def _latlon(x, y):
    lon, lat = _ll(x, y)
    return lat, lon


def _proj(code):
    x0, y0, u = PROJECTED[code]
    return lambda x, y: (x0 + x * u, y0 + y * u)


def literal_nt(lex: str, dt: str | None = None, lang: str | None = None) -> str:
    esc = lex.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{esc}"@{lang}'
    if dt and dt != XSD + "string":
        return f'"{esc}"^^<{dt}>'
    return f'"{esc}"'


def wkt_literal(crs: str | None, body: str) -> str:
    return literal_nt(f"<{crs}> {body}" if crs else body, WKT)


def _box(x, y, w, h):
    return shapely.box(x, y, x + w, y + h)


def _shapes(rnd: random.Random) -> list:
    """Geometries in grid units, built to meet each other in every way."""
    out = []
    boxes = []
    for _ in range(9):
        b = _box(rnd.randint(0, GRID - 6), rnd.randint(0, GRID - 6), rnd.randint(1, 6), rnd.randint(1, 6))
        boxes.append(b)
        out.append(b)
    for _ in range(3):  # shares (part of) an edge with a box
        x0, y0, x1, y1 = rnd.choice(boxes).bounds
        out.append(_box(x1, y0 + rnd.randint(-2, 1), rnd.randint(1, 4), rnd.randint(1, 4)))
    for _ in range(2):  # touches a box at a vertex
        x0, y0, x1, y1 = rnd.choice(boxes).bounds
        out.append(_box(x1, y1, rnd.randint(1, 3), rnd.randint(1, 3)))
    for _ in range(2):  # nested, strictly or touching the boundary from inside
        x0, y0, x1, y1 = rnd.choice([b for b in boxes if b.area >= 4] or boxes).bounds
        w, h = max(int(x1 - x0) - 1, 1), max(int(y1 - y0) - 1, 1)
        out.append(_box(x0 + rnd.randint(0, 1) * 0.5, y0 + rnd.randint(0, 1) * 0.5, w / 2, h / 2))
    # a polygon with a hole, the polygon that fills the hole, a point in the hole
    hx, hy = rnd.randint(0, GRID - 8), rnd.randint(0, GRID - 8)
    hole = [(hx + 2, hy + 2), (hx + 4, hy + 2), (hx + 4, hy + 4), (hx + 2, hy + 4), (hx + 2, hy + 2)]
    out.append(shapely.Polygon(_box(hx, hy, 6, 6).exterior.coords, [hole]))
    out.append(shapely.Polygon(hole))
    out.append(shapely.Point(hx + 3, hy + 3))
    for _ in range(2):  # triangles
        x, y = rnd.randint(0, GRID - 5), rnd.randint(0, GRID - 5)
        w, h = rnd.randint(1, 5), rnd.randint(1, 5)
        out.append(shapely.Polygon([(x, y), (x + w, y), (x, y + h)]))
    # points: at a vertex, on an edge, inside, anywhere
    for b in rnd.sample(boxes, 3):
        x0, y0, x1, y1 = b.bounds
        out.append(rnd.choice([shapely.Point(x0, y0), shapely.Point((x0 + x1) / 2, y0),
                               shapely.Point((x0 + x1) / 2, (y0 + y1) / 2)]))
    out.append(shapely.Point(rnd.randint(0, GRID), rnd.randint(0, GRID)))
    # lines: along an edge, crossing a box, a free polyline
    x0, y0, x1, y1 = rnd.choice(boxes).bounds
    out.append(shapely.LineString([(x0, y0), (x1, y0)]))
    x0, y0, x1, y1 = rnd.choice(boxes).bounds
    out.append(shapely.LineString([(x0 - 1, (y0 + y1) / 2), (x1 + 1, (y0 + y1) / 2)]))
    out.append(shapely.LineString([(rnd.randint(0, GRID), rnd.randint(0, GRID)) for _ in range(3)]))
    # multi-geometries: points, lines sharing a segment, polygons touching at a vertex, sharing an edge
    out.append(shapely.MultiPoint([(rnd.randint(0, GRID), rnd.randint(0, GRID)) for _ in range(3)]))
    x, y = rnd.randint(0, GRID - 4), rnd.randint(0, GRID - 4)
    out.append(shapely.MultiLineString([[(x, y), (x + 2, y)], [(x + 1, y), (x + 3, y), (x + 3, y + 2)]]))
    x, y = rnd.randint(0, GRID - 4), rnd.randint(0, GRID - 4)
    out.append(shapely.MultiPolygon([_box(x, y, 2, 2), _box(x + 2, y + 2, 2, 2)]))
    x, y = rnd.randint(0, GRID - 4), rnd.randint(0, GRID - 4)
    out.append(shapely.MultiPolygon([_box(x, y, 2, 2), _box(x + 2, y, 2, 2)]))  # invalid: shared edge
    # geometry collections
    x, y = rnd.randint(0, GRID - 4), rnd.randint(0, GRID - 4)
    out.append(shapely.GeometryCollection([shapely.Point(x, y), shapely.LineString([(x, y), (x + 3, y + 1)]),
                                           _box(x + 1, y + 1, 2, 2)]))
    out.append(shapely.GeometryCollection([rnd.choice(boxes), shapely.Point(rnd.randint(0, GRID), 0)]))
    return out


@dataclass
class Dataset:
    seed: int
    fmt: str  # "nq" or "trig"
    text: str
    features: list  # local names of IRI features
    geometries: list  # local names of IRI geometry nodes
    wkts: list  # the WKT literal texts (N-Triples)
    labels: list
    names: list  # (text, lang)
    ranks: list
    scores: list  # N-Triples texts of the ex:score literals
    odd: list  # non-canonical numeric literals: (N-Triples, value)
    dates: list
    constants: list  # WKT constants for queries: N-Triples literal texts
    classes: list = field(default_factory=lambda: ["Parcel", "Field", "Water", "type#Forest"])
    crops: list = field(default_factory=lambda: ["crop/1", "crop/2", "crop/3"])
    graphs: list = field(default_factory=lambda: ["graphA", "graphB"])


def make_dataset(seed: int) -> Dataset:
    rnd = random.Random(seed)
    quads: list[tuple[str, str, str, str | None]] = []
    bnodes: list[str] = []

    def iri(local):
        return f"<{EX}{local}>"

    def add(s, p, o, g=None):
        quads.append((s, p, o, g))

    def bnode(label):
        bnodes.append(label)
        return f"_:{label}"

    # geometry literals
    wkts: list[str] = []
    for i, g in enumerate(_shapes(rnd)):
        r = rnd.random()
        spaced = rnd.random() < 0.7
        if r < 0.15:
            wkts.append(wkt_literal(EPSG + "4326", wkt_text(g, _latlon, spaced)))
        elif r < 0.27:
            wkts.append(wkt_literal(CRS84, wkt_text(g, _ll, spaced)))
        else:
            wkts.append(wkt_literal(None, wkt_text(g, _ll, spaced)))
    shapes_84 = list(wkts)
    # identical geometries: the same literal again, the same polygon in EPSG:4326, from another vertex
    wkts.append(rnd.choice(shapes_84))
    b = _box(rnd.randint(0, GRID - 4), rnd.randint(0, GRID - 4), 3, 2)
    wkts.append(wkt_literal(None, wkt_text(b, _ll)))
    wkts.append(wkt_literal(EPSG + "4326", wkt_text(b, _latlon)))
    ring = list(b.exterior.coords)[1:-1] + [list(b.exterior.coords)[1]]
    wkts.append(wkt_literal(None, wkt_text(shapely.Polygon(ring[::-1]), _ll)))
    # projected CRSs, on their own grids (touching among themselves)
    for code, n in ((32632, 5), (3857, 3)):
        xy = _proj(code)
        base = None
        for k in range(n):
            if k == 0 or rnd.random() < 0.4:
                base = _box(rnd.randint(0, 16), rnd.randint(0, 16), rnd.randint(1, 5), rnd.randint(1, 5))
                g = base
            else:
                x0, y0, x1, y1 = base.bounds
                g = rnd.choice([_box(x1, y0, 2, 2), shapely.Point(x0, y0), base,
                                shapely.LineString([(x0, y0), (x1 + 2, y1 + 1)])])
            wkts.append(wkt_literal(EPSG + str(code), wkt_text(g, xy)))
    # empties, an unparsable literal, lower-case keywords
    wkts.append(wkt_literal(None, "POINT EMPTY"))
    wkts.append(wkt_literal(None, rnd.choice(["POLYGON EMPTY", "GEOMETRYCOLLECTION EMPTY"])))
    wkts.append(wkt_literal(None, "POLYGON((10.0 45.0, 10.1"))
    p = shapely.Point(rnd.randint(0, GRID), rnd.randint(0, GRID))
    wkts.append(wkt_literal(None, wkt_text(p, _ll).lower()))

    # features
    n_feat = len(wkts) - 6
    features, geometries, labels, names, ranks, scores, odd, dates = [], [], [], [], [], [], [], []
    rank_values = rnd.sample(range(0, 200), n_feat)
    odd_pool = [('"+1007"', 1007, "integer"), ('"01009"', 1009, "integer"), ('"1.50"', Decimal("1.5"), "decimal"),
                ('"-0.250"', Decimal("-0.25"), "decimal"), ('"1.0E3"', 1000.0, "double"),
                ('"25E-1"', 2.5, "double"), ('"0012.0"', Decimal("12"), "decimal")]
    label_words = ["alpha", "Beta", "gamma", "delta", "épsilon", "zeta", "eta", "théta", "iota", "kappa",
                   'quo"te', "back\\slash", "new\nline", "tab\tbed", "naïve", "Zulu", "ascii", "x-ray"]
    feats = []
    for i in range(n_feat):
        if i % 9 == 4:
            f = bnode(f"bf{i}")
        else:
            f = iri(f"f{i}")
            features.append(f"f{i}")
        feats.append(f)
    geoms = []
    for j in range(len(wkts)):
        if j % 11 == 7:
            gnode = bnode(f"bg{j}")
        else:
            gnode = iri(f"g{j}")
            geometries.append(f"g{j}")
        geoms.append(gnode)
    for j, (gnode, w) in enumerate(zip(geoms, wkts)):
        graph = iri("graphA") if j % 13 == 5 else None  # a few geometries only in a named graph
        add(gnode, f"<{GEO}asWKT>", w, graph)
        if rnd.random() < 0.3:
            add(gnode, f"<{RDF}type>", f"<{GEO}Geometry>")
    for i, f in enumerate(feats):
        add(f, f"<{GEO}hasGeometry>", geoms[i])
        if i < len(geoms) - n_feat:  # the rest of the geometries go to some features as a second one
            add(f, f"<{GEO}hasGeometry>", geoms[n_feat + i])
        for c in rnd.sample(["Parcel", "Field", "Water", "type#Forest"], rnd.choice([1, 1, 2])):
            add(f, f"<{RDF}type>", iri(c))
        if rnd.random() < 0.3:
            add(f, f"<{RDF}type>", f"<{GEO}Feature>")
        if not f.startswith("_:"):
            rv = rank_values[i]
            ranks.append(rv)
            add(f, iri("rank"), literal_nt(str(rv), XSD + "integer"))
            if rnd.random() < 0.25:
                add(f, iri("rank"), literal_nt(str(rv), XSD + "integer"), iri("graphA"))
        if rnd.random() < 0.85:
            w = rnd.choice(label_words) + ("" if rnd.random() < 0.5 else f" {rnd.randint(1, 9)}")
            labels.append(w)
            add(f, iri("label"), literal_nt(w, XSD + "string" if rnd.random() < 0.2 else None))
        for _ in range(rnd.choice([0, 1, 1, 2])):
            lang = rnd.choice(["en", "de", "en-GB", "fr"])
            word = rnd.choice(label_words[:10])
            names.append((word, lang))
            add(f, iri("name"), literal_nt(word, lang=lang))
        if rnd.random() < 0.8:
            kind = rnd.random()
            if kind < 0.4:
                s = literal_nt(str(rnd.randint(-20, 60)), XSD + "integer")
            elif kind < 0.75:
                s = literal_nt(f"{rnd.randint(-40, 240) / 4}", XSD + "decimal")
            else:
                s = literal_nt(f"{rnd.randint(-40, 240) / 8}", XSD + "double")
            if kind >= 0.4 and s.split('"')[1].endswith(".0"):
                s = literal_nt(s.split('"')[1][:-2] + ".5", s.split("^^<")[1][:-1])
            if float(s.split('"')[1]) in (1.5, -0.25, 2.5, 12.0, 12.5):  # the values of the non-canonical
                s = literal_nt("7", XSD + "integer")  # literals: one value, two terms (oxigraph: one)
            scores.append(s)
            add(f, iri("score"), s)
        if rnd.random() < 0.25:
            lex, value, dt = rnd.choice(odd_pool)
            text = f"{lex}^^<{XSD}{dt}>"
            odd.append((text, value))
            add(f, iri("odd"), text)
        if rnd.random() < 0.8:
            add(f, iri("active"), literal_nt(rnd.choice(["true", "false"]), XSD + "boolean"))
        if rnd.random() < 0.7:
            d = f"20{rnd.randint(18, 23)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            dates.append(d)
            add(f, iri("date"), literal_nt(d, XSD + "date"))
        if rnd.random() < 0.5:
            add(f, iri("crop"), iri(rnd.choice(["crop/1", "crop/2", "crop/3"])))
        for _ in range(rnd.choice([0, 1, 1, 2])):
            target = rnd.choice(feats)
            add(f, iri("next"), target, iri("graphB") if rnd.random() < 0.2 else None)
        if rnd.random() < 0.2:
            add(f, iri("part"), rnd.choice(feats))
        if rnd.random() < 0.15:
            a = bnode(f"a{i}")
            add(f, iri("addr"), a)
            add(a, iri("label"), literal_nt(rnd.choice(label_words)))
            if rnd.random() < 0.5:
                add(a, iri("addr"), a, iri("graphB"))
        if rnd.random() < 0.1:
            add(f, iri("odd.name"), literal_nt("dotted"))
    # triples in named graphs only, and one triple in the default graph and in both named graphs
    for f in rnd.sample(feats, 4):
        add(f, iri("status"), literal_nt(rnd.choice(["open", "closed"])), iri(rnd.choice(["graphA", "graphB"])))
    add(feats[1], iri("next"), feats[2])  # one pair linked twice: an alternative path (p|q) finds it twice
    add(feats[1], iri("part"), feats[2])
    add(feats[0], iri("status"), literal_nt("open"))
    add(feats[0], iri("status"), literal_nt("open"), iri("graphA"))
    add(feats[0], iri("status"), literal_nt("open"), iri("graphB"))
    for k, label in enumerate(bnodes):
        add(f"_:{label}", iri("bid"), literal_nt(f"b{k}"))

    # query constants: windows, points and lines on the grid, other CRSs, and non-geometries
    constants = []
    for _ in range(4):
        b = _box(rnd.randint(0, GRID - 8), rnd.randint(0, GRID - 8), rnd.randint(2, 10), rnd.randint(2, 10))
        constants.append(wkt_literal(None, wkt_text(b, _ll)))
    constants.append(wkt_literal(None, wkt_text(shapely.Point(rnd.randint(0, GRID), rnd.randint(0, GRID)), _ll)))
    line = shapely.LineString([(0, rnd.randint(0, GRID)), (GRID, rnd.randint(0, GRID))])
    constants.append(wkt_literal(None, wkt_text(line, _ll)))
    b = _box(rnd.randint(0, GRID - 8), rnd.randint(0, GRID - 8), 8, 8)
    constants.append(wkt_literal(EPSG + "4326", wkt_text(b, _latlon)))
    constants.append(wkt_literal(CRS84, wkt_text(b, _ll)))
    constants.append(wkt_literal(EPSG + "32632", wkt_text(_box(2, 2, 10, 10), _proj(32632))))
    constants.append(rnd.choice(wkts))
    constants.append(wkt_literal(None, "POINT EMPTY"))
    constants.append(literal_nt(wkt_text(shapely.Point(3, 3), _ll)))  # a plain string, not a geometry
    constants.append(wkt_literal(None, "not a geometry"))

    fmt = "trig" if seed % 2 else "nq"
    text = _serialise(quads, fmt)
    return Dataset(seed, fmt, text, features, geometries, wkts, labels, names, ranks, scores, odd,
                   dates, constants)


def _serialise(quads, fmt: str) -> str:
    if fmt == "nq":
        return "".join(f"{s} {p} {o}{' ' + g if g else ''} .\n" for s, p, o, g in quads)
    lines = [f"{s} {p} {o} ." for s, p, o, g in quads if g is None]
    for graph in sorted({g for *_, g in quads if g}):
        lines.append(f"{graph} {{")
        lines += [f"  {s} {p} {o} ." for s, p, o, g in quads if g == graph]
        lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# the reference geof: functions (shapely + pyproj only)

SF = {"sfEquals": shapely.equals, "sfDisjoint": shapely.disjoint, "sfIntersects": shapely.intersects,
      "sfTouches": shapely.touches, "sfCrosses": shapely.crosses, "sfWithin": shapely.within,
      "sfContains": shapely.contains, "sfOverlaps": shapely.overlaps}
# GeoSPARQL 1.0, tables 7 (Egenhofer) and 8 (RCC8): a relation holds if the DE-9IM matrix
# matches any of its patterns
EH = {"ehEquals": ["TFFFTFFFT"], "ehDisjoint": ["FF*FF****"],
      "ehMeet": ["FT*******", "F**T*****", "F***T****"], "ehOverlap": ["T*T***T**"],
      "ehCovers": ["T*TFT*FF*"], "ehCoveredBy": ["TFF*TFT**"], "ehInside": ["TFF*FFT**"],
      "ehContains": ["T*TFF*FF*"]}
RCC8 = {"rcc8eq": ["TFFFTFFFT"], "rcc8dc": ["FFTFFTTTT"], "rcc8ec": ["FFTFTTTTT"], "rcc8po": ["TTTTTTTTT"],
        "rcc8tppi": ["TTTFTTFFT"], "rcc8tpp": ["TFFTTFTTT"], "rcc8ntpp": ["TFFTFFTTT"], "rcc8ntppi": ["TTTFFTFFT"]}
RELATIONS = [*SF, *EH, *RCC8]

GEOD = pyproj.Geod(ellps="WGS84")
COARSE = 0.002  # degrees between densified vertices, first pass
FINE = 0.00005  # second pass, around the closest pairs of the first
METRE_TOLERANCE = 12.0  # the reference's bound on its own error (metres)


def matches(matrix: str, pattern: str) -> bool:
    for m, p in zip(matrix, pattern):
        if p == "*":
            continue
        if p == "T":
            if m not in "012":
                return False
        elif p != m:
            return False
    return True


def _parts(g):
    if hasattr(g, "geoms"):
        for p in g.geoms:
            yield from _parts(p)
    else:
        yield g


def _linework(g):
    """Points and lines whose vertices carry the geometry's nearest points to anything outside."""
    out = []
    for p in _parts(g):
        if p.is_empty:
            continue
        out.append(p.boundary if p.geom_type == "Polygon" else p)
    return shapely.GeometryCollection(out)


def _pairs_min(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon1, lat1 = np.repeat(a[:, 0], len(b)), np.repeat(a[:, 1], len(b))
    lon2, lat2 = np.tile(b[:, 0], len(a)), np.tile(b[:, 1], len(a))
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d).reshape(len(a), len(b))


def geodesic_distance(a, b) -> float:
    """Minimum geodesic distance (metres, WGS84) between two lon/lat geometries: 0 if they
    intersect; otherwise all pairs of vertices of both geometries densified every COARSE degrees,
    then again every FINE degrees around the closest pairs."""
    if shapely.intersects(a, b):
        return 0.0
    la, lb = _linework(a), _linework(b)
    ca = shapely.get_coordinates(shapely.segmentize(la, COARSE))
    cb = shapely.get_coordinates(shapely.segmentize(lb, COARSE))
    d = _pairs_min(ca, cb)
    best = float(d.min())
    order = np.argsort(d, axis=None)[:6]
    for k in order:
        i, j = np.unravel_index(k, d.shape)
        wa = shapely.box(*(ca[i] - COARSE * 1.01), *(ca[i] + COARSE * 1.01))
        wb = shapely.box(*(cb[j] - COARSE * 1.01), *(cb[j] + COARSE * 1.01))
        fa = shapely.get_coordinates(shapely.segmentize(shapely.intersection(la, wa), FINE))
        fb = shapely.get_coordinates(shapely.segmentize(shapely.intersection(lb, wb), FINE))
        if len(fa) and len(fb):
            best = min(best, float(_pairs_min(fa, fb).min()))
    return best


def _planar_estimate(a, b) -> float:
    """Metres, from a local equirectangular scaling; within about 1% at this scale."""
    lat = LAT0 + GRID * UNIT / 2
    k = math.cos(math.radians(lat))
    sa = shapely.transform(a, lambda c: c * [111320.0 * k, 110950.0])
    sb = shapely.transform(b, lambda c: c * [111320.0 * k, 110950.0])
    return float(shapely.distance(sa, sb))


BUDGET = 150_000  # geof: calls per query before the reference gives up on it


class Reference:
    """The geof: functions for pyoxigraph's custom_functions.  ``thresholds`` (set per query by
    the runner) are the constants the query compares metre distances with: a distance far from
    all of them is only estimated; one near any of them is computed exactly and, if it is within
    the reference's own error of one, the query is marked ``ambiguous``."""

    def __init__(self):
        self._geoms: dict[str, tuple | None] = {}
        self._to84: dict[str, pyproj.Transformer] = {}
        self._exact: dict[tuple, float] = {}
        self._in84: dict[str, object] = {}
        self._results: dict[tuple, object] = {}  # (function, literal texts...) -> answer
        self.thresholds: list[tuple[float, str]] = []
        self.ambiguous = False
        self.calls = 0  # per query; past BUDGET the answer is abandoned (the query is skipped)

    # literal -> (crs key, shapely geometry in the CRS's x/y order; EPSG:4326 swapped to lon/lat)
    def geometry(self, term):
        if not isinstance(term, ox.Literal):
            return None
        text = term.value
        if text in self._geoms and term.datatype.value == WKT:
            return self._geoms[text]
        if term.datatype.value != WKT:
            return None
        out = None
        try:
            body = text.strip()
            crs = "CRS84"
            m = re.match(r"<([^>]*)>\s*(.*)$", body, re.S)
            if m:
                iri, body = m.group(1), m.group(2)
                if iri in (CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326"):
                    crs = "CRS84"
                elif iri.startswith(EPSG) and iri[len(EPSG):].isdigit():
                    crs = "EPSG:" + iri[len(EPSG):]
                else:
                    raise ValueError(iri)
                swap = iri.endswith("/EPSG/0/4326")
            else:
                swap = False
            g = shapely.from_wkt(body)
            if swap:
                g = shapely.transform(g, lambda c: c[:, ::-1])
            out = (crs, g)
        except Exception:  # noqa: BLE001 - anything unparsable is not a geometry
            out = None
        self._geoms[text] = out
        return out

    def _crs84(self, crs, g):
        if crs == "CRS84":
            return g
        t = self._to84.get(crs)
        if t is None:
            t = self._to84[crs] = pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
        return shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    def in84(self, text, crs, g):
        if text not in self._in84:
            self._in84[text] = self._crs84(crs, g)
        return self._in84[text]

    def pair(self, a, b):
        ga, gb = self.geometry(a), self.geometry(b)
        if ga is None or gb is None:
            return None
        if ga[0] == gb[0]:
            return ga[0], ga[1], gb[1]
        return "CRS84", self.in84(a.value, *ga), self.in84(b.value, *gb)

    def matrix(self, a, b):
        key = ("relate", a.value, b.value)
        if key not in self._results:
            p = self.pair(a, b)
            try:
                self._results[key] = None if p is None else shapely.relate(p[1], p[2])
            except Exception:  # noqa: BLE001 - GEOS refuses the pair: an error
                self._results[key] = None
        return self._results[key]

    def relation(self, name):
        def f(a, b):
            if self.geometry(a) is None or self.geometry(b) is None:
                return None
            if name not in SF:
                m = self.matrix(a, b)
                return None if m is None else _bool(any(matches(m, pat) for pat in (EH.get(name) or RCC8[name])))
            key = (name, a.value, b.value)
            if key not in self._results:
                p = self.pair(a, b)
                try:
                    self._results[key] = bool(SF[name](p[1], p[2]))
                except Exception:  # noqa: BLE001
                    self._results[key] = None
            v = self._results[key]
            return None if v is None else _bool(v)
        return f

    def relate(self, a, b, pattern):
        if self.geometry(a) is None or self.geometry(b) is None or not isinstance(pattern, ox.Literal):
            return None
        if pattern.datatype.value != XSD + "string" or pattern.language:
            return None
        pat = pattern.value
        if not re.fullmatch(r"[TF*012]{9}", pat):
            return None
        m = self.matrix(a, b)
        return None if m is None else _bool(matches(m, pat))

    def distance(self, a, b, unit):
        if self.geometry(a) is None or self.geometry(b) is None or not isinstance(unit, ox.NamedNode):
            return None
        crs, ga, gb = self.pair(a, b)
        if ga.is_empty or gb.is_empty:
            return None
        if unit.value == UOM + "degree":
            if crs != "CRS84":
                ga, gb = self._crs84(crs, ga), self._crs84(crs, gb)
            return self._tie(float(shapely.distance(ga, gb)), "degree")
        if unit.value != UOM + "metre":
            return None
        if crs != "CRS84":  # a projected CRS whose unit is the metre: Cartesian
            return self._tie(float(shapely.distance(ga, gb)), "metre")
        key = (a.value, b.value)
        if key in self._exact:
            d = self._exact[key]
        else:
            metres = [n for n, u in self.thresholds if u == "metre"]
            if ("est",) + key not in self._results:
                self._results[("est",) + key] = _planar_estimate(ga, gb)
            est = self._results[("est",) + key]
            if metres and all(abs(est - n) > 0.02 * est + 100 for n in metres) and est > 0:
                return _double(est)
            d = self._exact[key] = geodesic_distance(ga, gb)
        for n, u in self.thresholds:
            if u == "metre" and d > 0 and abs(d - n) <= METRE_TOLERANCE:
                self.ambiguous = True
        return _double(d)

    def _tie(self, d: float, unit: str):
        """Exact distances equal to a threshold (up to rounding) make a query ambiguous."""
        for n, u in self.thresholds:
            if u == unit and d > 0 and abs(d - n) <= 1e-9 * max(1.0, n):
                self.ambiguous = True
        return _double(d)

    def functions(self) -> dict:
        out = {ox.NamedNode(GEOF + name): self.relation(name) for name in RELATIONS}
        out[ox.NamedNode(GEOF + "relate")] = self.relate
        out[ox.NamedNode(GEOF + "distance")] = self.distance
        return {k: self._guard(v) for k, v in out.items()}

    def _guard(self, f):
        def g(*args):
            self.calls += 1
            if self.calls > BUDGET:
                return None
            try:
                return f(*args)
            except TypeError:  # wrong number of arguments
                return None
        return g


_TRUE = ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
_FALSE = ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean"))


def _bool(v: bool) -> ox.Literal:
    return _TRUE if v else _FALSE


def _double(v: float) -> ox.Literal:
    return ox.Literal(repr(v), datatype=ox.NamedNode(XSD + "double"))


# ---------------------------------------------------------------------------------------------
# the query generator

PREFIXES = {
    "ex": EX, "geo": GEO, "geof": GEOF, "uom": UOM, "xsd": XSD, "rdf": RDF,
}
# roles of variables: what they hold.  ORDERABLE roles hold terms whose SPARQL order is defined
# (IRIs, and literals of one datatype whose values differ when their terms do)
ORDERABLE = {"rank", "label", "flag", "date", "cls", "crop", "graph", "int", "str", "bool"}
PREFIX_OF = {"feat": "f", "geom": "g", "wkt": "w", "rank": "r", "score": "sc", "odd": "od", "label": "l",
             "name": "n", "flag": "fl", "date": "d", "cls": "c", "crop": "cr", "graph": "gr", "addr": "a",
             "any": "o", "pred": "p", "int": "i", "str": "s", "bool": "b", "num": "x", "dist": "dd",
             "gc": "gc"}
# (subject role, predicate forms, object role)
TEMPLATES = [
    ("feat", ["a", "rdf:type", f"<{RDF}type>"], "cls"),
    ("feat", ["geo:hasGeometry", f"<{GEO}hasGeometry>"], "geom"),
    ("geom", ["geo:asWKT", f"<{GEO}asWKT>"], "wkt"),
    ("feat", ["geo:hasGeometry/geo:asWKT"], "wkt"),
    ("feat", ["ex:rank"], "rank"),
    ("feat", ["ex:score"], "score"),
    ("feat", ["ex:odd"], "odd"),
    ("feat", ["ex:label"], "label"),
    ("feat", ["ex:name"], "name"),
    ("feat", ["ex:active"], "flag"),
    ("feat", ["ex:date"], "date"),
    ("feat", ["ex:crop"], "crop"),
    ("feat", ["ex:next", "ex:next", "ex:next+", "ex:next*", "ex:next?", "^ex:next", "ex:next/ex:next",
              "(ex:next|ex:part)", "ex:part", "ex:next/^ex:next", "(ex:next/ex:part)*"], "feat"),
    ("feat", ["ex:addr"], "addr"),
    ("addr", ["ex:label"], "label"),
    ("feat", ["ex:status"], "label"),
    ("feat", ["?pred"], "any"),
]
WEIGHTS = [3, 3, 3, 3, 3, 2, 1, 3, 2, 1, 1, 1, 3, 1, 1, 1, 1]
PATTERNS = ["T*F**F***", "T********", "FF*FF****", "F***T****", "*T*******", "T*T***T**", "0********",
            "1*T***T**", "TFFFTFFFT", "FT*******", "T*****FF*", "2FFF1FFF2", "**F**F***"]


AVOIDABLE = {
    "empty-prefix": "PREFIX : <...> and :local names",
    "escaped-local": r"prefixed names with escapes (ex:crop\/3)",
    "single-quote-escape": "escaped double quotes inside single-quoted strings",
    "exists-in-optional": "FILTER (NOT) EXISTS inside OPTIONAL",
    "exists": "FILTER (NOT) EXISTS anywhere",
    "select-star": "SELECT *",
    "alternative-path": "alternative property paths (p|q)",
    "non-geometry-constant": "constants that are not geometry literals as geof: arguments",
    "zero-distance": "distance thresholds of 0",
    "raw-tab": "long strings holding a raw tab character",
}


@dataclass
class Query:
    text: str
    form: str = "select"  # select, ask or construct
    ordered: bool = False  # compare in order: ORDER BY with a total order
    reduced: bool = False  # compare as sets
    concat: dict = field(default_factory=dict)  # variable -> GROUP_CONCAT separator
    thresholds: list = field(default_factory=list)  # (value, unit) of distance comparisons


class QueryGenerator:
    """``avoid``: constructs to leave out (see AVOIDABLE), to look past a known divergence."""

    def __init__(self, ds: Dataset, seed: int, avoid=()):
        self.ds = ds
        self.rnd = random.Random(seed)
        self.n = 0
        self.avoid = set(avoid)
        unknown = self.avoid - set(AVOIDABLE)
        if unknown:
            raise ValueError(f"unknown constructs to avoid: {sorted(unknown)}; known: {sorted(AVOIDABLE)}")

    # -- constants in every lexical form ----------------------------------------------------
    def chance(self, p):
        return self.rnd.random() < p

    def iri(self, local: str) -> str:
        r = self.rnd.random()
        if r < 0.3:
            return f"<{EX}{local}>"
        if r < 0.4 and self.base:
            return f"<{local}>"
        escaped = _escape_local(local)
        if escaped != local and ("escaped-local" in self.avoid or self.chance(0.6)):
            return f"<{EX}{local}>"
        if r < 0.5 and self.empty_prefix:
            return ":" + escaped
        return "ex:" + escaped

    def int_const(self, v: int, pattern: bool = False) -> str:
        forms = [str(v), str(v), f'"{v}"^^xsd:integer', f'"{v}"^^<{XSD}integer>']
        if not pattern:
            forms += [f"{v}.0", f"{v}e0", f"{v}.0E0", f'"{v}"^^xsd:decimal', f'"{v}"^^xsd:double']
            if v >= 0:
                forms.append(f"+{v}")
        return self.rnd.choice(forms)

    def num_const(self) -> str:
        r = self.rnd.random()
        if r < 0.4:
            return self.int_const(self.rnd.randint(-10, 60))
        v = self.rnd.randint(-40, 240) / 4
        return self.rnd.choice([f"{v}", f"{v}e0", f'"{v}"^^xsd:decimal', f'"{v}"^^xsd:double', f"{v:.1E}"])

    def str_const(self, s: str) -> str:
        esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        r = self.rnd.random()
        if r < 0.5:
            return f'"{esc}"'
        if r < 0.65:
            ok = "'" not in s and ('"' not in s or "single-quote-escape" not in self.avoid)
            return f"'{esc}'" if ok else f'"{esc}"'
        if r < 0.8:
            return f'"{esc}"^^xsd:string'
        if r < 0.9 and not s.endswith('"') and not ("\t" in s and "raw-tab" in self.avoid):
            return '"""' + s.replace("\\", "\\\\") + '"""'
        return '"' + "".join(c if c.isascii() else f"\\u{ord(c):04X}" for c in esc) + '"'

    def bool_const(self, v: bool) -> str:
        return self.rnd.choice([str(v).lower(), f'"{str(v).lower()}"^^xsd:boolean'])

    def constant(self, role: str, pattern: bool = False) -> str | None:
        ds, rnd = self.ds, self.rnd
        if role == "feat":
            return self.iri(rnd.choice(ds.features))
        if role == "geom":
            return self.iri(rnd.choice(ds.geometries))
        if role == "wkt":
            w = rnd.choice(ds.wkts)
            return w.replace(f"<{WKT}>", "geo:wktLiteral") if self.chance(0.5) else w
        if role == "rank":
            return self.int_const(rnd.choice(ds.ranks) if self.chance(0.8) else rnd.randint(0, 200), pattern)
        if role == "score":
            if pattern and ds.scores:
                return rnd.choice(ds.scores)
            return self.num_const()
        if role == "label":
            return self.str_const(rnd.choice(ds.labels) if self.chance(0.8) else "nothing")
        if role == "name":
            word, lang = rnd.choice(ds.names)
            return self.str_const(word).split("^^")[0] + "@" + (lang if self.chance(0.7) else lang.upper())
        if role == "flag":
            return self.bool_const(self.chance(0.5))
        if role == "date":
            d = rnd.choice(ds.dates) if self.chance(0.6) else "2020-06-15"
            return f'"{d}"^^xsd:date'
        if role == "cls":
            return self.iri(rnd.choice(ds.classes))
        if role == "crop":
            return self.iri(rnd.choice(ds.crops))
        if role == "graph":
            return self.iri(rnd.choice(ds.graphs))
        return None

    # -- variables --------------------------------------------------------------------------
    def fresh(self, role: str) -> str:
        self.n += 1
        return f"?{PREFIX_OF[role]}{self.n}"

    def var(self, scope: dict, role: str, reuse: float = 0.6) -> str:
        have = [v for v, r in scope.items() if r == role]
        if have and self.chance(reuse):
            return self.rnd.choice(have)
        v = self.fresh(role)
        scope[v] = role
        return v

    def pick(self, scope: dict, roles=None) -> str | None:
        have = [v for v, r in scope.items() if roles is None or r in roles]
        return self.rnd.choice(have) if have else None

    # -- patterns ---------------------------------------------------------------------------
    def triple(self, scope: dict, template=None) -> str:
        """A triple pattern, joined to the variables in scope whenever it can be (a random
        query of disconnected patterns is a cross product that says little and runs long)."""
        self.budget -= 1
        if template is None:
            present = set(scope.values())
            weights = [w * (8 if (t[0] in present or t[2] in present) else 1) for t, w in zip(TEMPLATES, WEIGHTS)]
            template = self.rnd.choices(TEMPLATES, weights)[0]
        s_role, preds, o_role = template
        p = self.rnd.choice(preds)
        if "alternative-path" in self.avoid and "|" in p:
            p = "ex:next"
        if p == "?pred":
            p = self.var(scope, "pred", 0.3)
        s_have = [v for v, r in scope.items() if r == s_role]
        o_have = [v for v, r in scope.items() if r == o_role]
        s = o = None
        if s_have and (self.chance(0.85) or not o_have):
            s = self.rnd.choice(s_have)
        elif o_have:
            o = self.rnd.choice(o_have)
        if s is None and o is None and p.endswith(("*", "?")):
            s = self.constant("feat")  # a zero-length path between two new variables: every term of the graph
        if s is None:
            if self.chance(0.15) and s_role == "feat":
                s = self.constant("feat")
            else:
                s = self.var(scope, s_role, 0.0)
        if o is None:
            if self.chance(0.15) and o_role not in ("geom", "addr", "odd", "any"):
                o = self.constant(o_role, pattern=True)
            else:
                o = self.var(scope, o_role, 0.2)
        if p == "geo:hasGeometry/geo:asWKT" and self.chance(0.3):
            return f"{s} geo:hasGeometry [ geo:asWKT {o} ] ."
        return f"{s} {p} {o} ."

    def geo_chain(self, scope: dict) -> tuple[str, str]:
        self.budget -= 1
        f = self.var(scope, "feat", 0.3)
        w = self.fresh("wkt")
        scope[w] = "wkt"
        if self.chance(0.5):
            return f"{f} geo:hasGeometry/geo:asWKT {w} .", w
        g = self.fresh("geom")
        scope[g] = "geom"
        return f"{f} geo:hasGeometry {g} . {g} geo:asWKT {w} .", w

    def group(self, scope: dict, depth: int) -> str:
        parts = []
        for _ in range(self.rnd.choice([1, 1, 2, 2, 3]) if self.budget > 0 else 1):
            parts.append(self.triple(scope))
        n_extra = self.rnd.choice([0, 1, 1, 2, 2, 3]) if depth < 2 else self.rnd.choice([0, 0, 1])
        for _ in range(n_extra):
            parts.append(self.element(scope, depth))
        if self.chance(0.3) and not any("BIND(" in p for p in parts):
            self.rnd.shuffle(parts)  # a BIND's variable must not be used before it
        return " ".join(p for p in parts if p)

    def spatial_group(self, scope: dict, depth: int) -> str:
        """Two geometry chains and a spatial condition between them, mixed with other elements."""
        self.spatial_done = True
        a, wa = self.geo_chain(scope)
        b, wb = self.geo_chain(scope)
        cond = self.spatial(wa, wb)
        parts = [a, b]
        r = self.rnd.random()
        if r < 0.5:
            if self.chance(0.5):
                cond = f"{cond} && {self.filter_expr(scope)}"
            parts.append(f"FILTER({cond})")
        elif r < 0.7:
            v = self.fresh("bool")
            parts.append(f"BIND({cond} AS {v})")
            scope[v] = "bool"
            if self.chance(0.5):
                parts.append(f"FILTER({v}{' = false' if self.chance(0.3) else ''})")
        else:
            parts = [a, f"OPTIONAL {{ {b} FILTER({cond}) }}"]
        for _ in range(self.rnd.choice([0, 1, 2])):
            parts.append(self.element(scope, depth + 1))
        if self.chance(0.2) and not any("BIND(" in p for p in parts):
            self.rnd.shuffle(parts)
        return " ".join(parts)

    def element(self, scope: dict, depth: int) -> str:
        r = self.rnd.random()
        if self.budget <= 0:  # no more triple patterns: a filter or a BIND
            r = self.rnd.choice([0.2, 0.2, 0.6, 0.7])
        if r < 0.12:
            return self.triple(scope)
        if r < 0.27:
            return f"FILTER({self.filter_expr(scope)})"
        if r < 0.37:
            inner_scope = dict(scope)
            self.in_optional += 1
            inner = self.group(inner_scope, depth + 1)
            self.in_optional -= 1
            scope.update(inner_scope)  # visible after the OPTIONAL, possibly unbound
            return f"OPTIONAL {{ {inner}{self.maybe_filter(scope)} }}"
        if r < 0.45:
            s1, s2 = dict(scope), dict(scope)
            left, right = self.group(s1, depth + 1), self.group(s2, depth + 1)
            scope.update(s1)
            scope.update(s2)
            return f"{{ {left} }} UNION {{ {right} }}"
        if r < 0.5:
            return f"MINUS {{ {self.group(dict(scope), depth + 1)} }}"
        if r < 0.56 and "exists" not in self.avoid and not (self.in_optional and "exists-in-optional" in self.avoid):
            neg = "NOT " if self.chance(0.5) else ""
            return f"FILTER {neg}EXISTS {{ {self.group(dict(scope), depth + 1)} }}"
        if r < 0.65:
            return self.bind(scope)
        if r < 0.72:
            return self.values(scope)
        if r < 0.77 and depth < 2:
            return self.subquery(scope, depth + 1)
        if r < 0.82:
            g = self.constant("graph") if self.chance(0.5) else self.var(scope, "graph")
            inner = self.group(scope, depth + 1)
            return f"GRAPH {g} {{ {inner} }}"
        if r < 0.88 and depth < 1 and not self.spatial_done:
            return self.spatial_group(scope, depth)
        if r < 0.94:
            w = self.pick(scope, {"wkt"})
            if w is None:
                chain, w = self.geo_chain(scope)
            else:
                chain = ""
            return f"{chain} FILTER({self.spatial(w, self.spatial_constant())})"
        return f"{{ {self.group(scope, depth + 1)} }}"

    def maybe_filter(self, scope):
        return f" FILTER({self.filter_expr(scope)})" if self.chance(0.3) else ""

    # -- expressions ------------------------------------------------------------------------
    def spatial_constant(self) -> str:
        pool = [c for c in self.ds.constants if c.endswith(f"<{WKT}>")]
        if "non-geometry-constant" not in self.avoid and self.chance(0.02):
            pool = [c for c in self.ds.constants if not c.endswith(f"<{WKT}>")]
        c = self.rnd.choice(pool)
        return c.replace(f"<{WKT}>", "geo:wktLiteral") if self.chance(0.5) else c

    def spatial(self, a: str, b: str) -> str:
        if self.chance(0.2):
            a, b = b, a
        r = self.rnd.random()
        if r < 0.6:
            return f"geof:{self.rnd.choice(RELATIONS)}({a}, {b})"
        if r < 0.75:
            return f'geof:relate({a}, {b}, "{self.rnd.choice(PATTERNS)}")'
        if r < 0.92:
            return self.distance(a, b)
        return f"!geof:{self.rnd.choice(RELATIONS)}({a}, {b})"

    def distance(self, a: str, b: str) -> str:
        op = self.rnd.choice(["<=", "<", ">", ">="])
        if self.chance(0.7):
            n = self.rnd.choice([0, 100, 500, 1000, 2500, 5000, 20000][("zero-distance" in self.avoid):])
            self.thresholds.append((float(n), "metre"))
            unit = self.rnd.choice(["uom:metre", f"<{UOM}metre>"])
            lit = self.rnd.choice([str(n), f"{n}.0", f"{n}e0", f'"{n}"^^xsd:double'])
        else:
            n = self.rnd.choice([0, 0.005, 0.01, 0.03, 0.1][("zero-distance" in self.avoid):])
            self.thresholds.append((float(n), "degree"))
            unit = "uom:degree"
            lit = self.rnd.choice([str(n), f"{n}e0"])
        return f"geof:distance({a}, {b}, {unit}) {op} {lit}"

    def filter_expr(self, scope: dict) -> str:
        r = self.rnd.random()
        if r < 0.12:
            return f"({self.atom(scope)} && {self.atom(scope)})"
        if r < 0.2:
            return f"({self.atom(scope)} || {self.atom(scope)})"
        if r < 0.25:
            return f"!({self.atom(scope)})"
        return self.atom(scope)

    def atom(self, scope: dict) -> str:
        v = self.pick(scope)
        if v is None:
            return self.bool_const(self.chance(0.5))
        role = scope[v]
        rnd = self.rnd
        op = rnd.choice(["=", "!=", "<", "<=", ">", ">="])
        if rnd.random() < 0.08:
            return f"{'!' if self.chance(0.5) else ''}BOUND({v})"
        if role in ("rank", "int", "score", "odd", "num"):
            c = rnd.choice([0, 1, 2, 3, 4])
            other = self.pick(scope, {"rank", "int", "score", "odd", "num"})
            if c == 0 and other:
                return f"{v} {op} {other}"
            if c == 1:
                arith = f"{v} {rnd.choice(['+', '-', '*'])} {self.int_const(rnd.randint(1, 3))}"
                return f"({arith}) {op} {self.num_const()}"
            if c == 2:
                return f"{v} IN ({', '.join(self.num_const() for _ in range(rnd.randint(1, 3)))})"
            if c == 3 and role != "odd":
                dt = rnd.choice(["integer", "decimal", "double"])
                return rnd.choice([f"isNumeric({v})", f"DATATYPE({v}) = xsd:{dt}",
                                   f"ABS({v}) > 10", f"ROUND({v}) = {v}"])
            return f"{v} {op} {self.num_const()}"
        if role in ("label", "str"):
            s = rnd.choice(self.ds.labels)[:3]
            start = "".join(c for c in s[:2] if c.isalnum())
            return rnd.choice([f"STRSTARTS({v}, {self.str_const(s)})", f"CONTAINS({v}, {self.str_const(s[1:])})",
                               f'REGEX({v}, "^{start}", "i")', f"STRLEN({v}) {op} {rnd.randint(3, 8)}",
                               f"{v} {op} {self.constant('label')}", f"UCASE({v}) = UCASE({self.constant('label')})",
                               f"STRENDS({v}, \"a\")", f"{v} IN ({self.constant('label')}, {self.constant('label')})",
                               f"LCASE({v}) < \"m\""])
        if role == "name":
            lang = rnd.choice(["en", "de", "EN", "en-gb", "fr"])
            return rnd.choice([f'LANG({v}) = "{lang}"', f'LANGMATCHES(LANG({v}), "{lang}")',
                               f'LANGMATCHES(LANG({v}), "*")', f"{v} = {self.constant('name')}",
                               f"STR({v}) = {self.constant('label')}", f"sameTerm({v}, {self.constant('name')})",
                               f"STRSTARTS({v}, {self.str_const('a')})"])
        if role in ("flag", "bool"):
            return rnd.choice([v, f"!{v}", f"{v} = {self.bool_const(self.chance(0.5))}", f"{v} != true"])
        if role == "date":
            return rnd.choice([f"{v} {op} {self.constant('date')}", f"YEAR({v}) {op} {rnd.randint(2018, 2023)}",
                               f"MONTH({v}) = {rnd.randint(1, 12)}"])
        if role in ("feat", "geom", "cls", "crop", "graph", "addr", "any", "pred"):
            const_role = role if role in ("feat", "geom", "cls", "crop", "graph") else "feat"
            other = self.pick(scope, {role})
            return rnd.choice([f"{v} = {self.constant(const_role)}", f"{v} != {self.constant(const_role)}",
                               f"isIRI({v})", f"isBlank({v})", f"isLiteral({v})",
                               f"sameTerm({v}, {other})" if other else f"isURI({v})",
                               f"{v} IN ({self.constant(const_role)}, {self.constant(const_role)})",
                               f"STRSTARTS(STR({v}), \"{EX}f1\")"])
        if role == "wkt":
            other = self.pick(scope, {"wkt"})
            if other and other != v and self.chance(0.6):
                return self.spatial(v, other)
            return self.spatial(v, self.spatial_constant())
        return f"BOUND({v})"

    def bind(self, scope: dict) -> str:
        v = self.pick(scope)
        role = scope.get(v) if v else None
        rnd = self.rnd
        if role in ("rank", "int"):
            expr, out = rnd.choice([(f"{v} + {rnd.randint(1, 5)}", "int"), (f"{v} * 2", "int"),
                                    (f"IF({v} > {rnd.randint(0, 100)}, \"big\", \"small\")", "str"),
                                    (f"STR({v})", "str")])
        elif role in ("label", "str"):
            expr, out = rnd.choice([(f"UCASE({v})", "str"), (f"STRLEN({v})", "int"), (f'CONCAT({v}, "-x")', "str"),
                                    (f'STRBEFORE({v}, "a")', "str"), (f"SUBSTR({v}, 2, 3)", "str")])
        elif role == "name":
            expr, out = rnd.choice([(f"LANG({v})", "str"), (f"STR({v})", "str")])
        elif role == "wkt":
            other = self.pick(scope, {"wkt"})
            b = other if other and other != v and self.chance(0.6) else self.spatial_constant()
            if self.chance(0.25):
                m = rnd.choice([1000, 5000])
                self.thresholds.append((float(m), "metre"))
                d = self.fresh("dist")
                scope[d] = "dist"
                return f"BIND(geof:distance({v}, {b}, uom:metre) AS {d}) FILTER({d} < {m})"
            expr, out = (f"geof:{rnd.choice(RELATIONS)}({v}, {b})", "bool")
        elif role in ("feat", "cls", "crop"):
            expr, out = rnd.choice([(f"STR({v})", "str"), (f"isBlank({v})", "bool"),
                                    (f"COALESCE({v}, {self.constant('feat')})", role)])
        elif role in ("score", "odd"):
            expr, out = (f"({v} > 10)", "bool")
        else:
            expr, out = (self.constant("crop"), "crop")
        t = self.fresh(out)
        scope[t] = out
        return f"BIND({expr} AS {t})"

    def values(self, scope: dict) -> str:
        rnd = self.rnd
        roles = rnd.sample(["feat", "rank", "label", "cls", "wkt", "crop"], rnd.choice([1, 1, 2]))
        names = [self.var(scope, r, 0.7) for r in roles]
        rows = []
        for _ in range(rnd.randint(1, 4)):
            row = []
            for r in roles:
                if self.chance(0.15):
                    row.append("UNDEF")
                elif r == "wkt" and self.chance(0.5):
                    row.append(self.spatial_constant())
                else:
                    row.append(self.constant(r, pattern=True))
            rows.append(row)
        if len(names) == 1 and self.chance(0.6):
            return f"VALUES {names[0]} {{ {' '.join(r[0] for r in rows)} }}"
        return f"VALUES ({' '.join(names)}) {{ {' '.join('(' + ' '.join(r) + ')' for r in rows)} }}"

    def subquery(self, scope: dict, depth: int) -> str:
        inner = dict(scope)
        body = self.group(inner, depth)
        own = [v for v in inner if _mentions(v, body)]
        if not own:
            return ""
        if self.chance(0.35):
            keys = [v for v in own if inner[v] not in ("wkt", "dist")][:1] or own[:1]
            x = self.rnd.choice(own)
            c = self.fresh("int")
            inner_q = f"SELECT {' '.join(keys)} (COUNT({x}) AS {c}) WHERE {{ {body} }} GROUP BY {' '.join(keys)}"
            for k in keys:
                scope.setdefault(k, inner[k])
            scope[c] = "int"
            return f"{{ {inner_q} }}"
        proj = self.rnd.sample(own, min(len(own), self.rnd.randint(1, 3)))
        proj = [v for v in proj if inner[v] != "dist"] or proj[:1]
        mod = ""
        if all(inner[v] in ORDERABLE for v in proj) and self.chance(0.5):
            mod = " ORDER BY " + " ".join(self.rnd.choice(["", "DESC", "ASC"]) + f"({v})" for v in proj)
            mod += f" LIMIT {self.rnd.randint(1, 6)}"
        distinct = "DISTINCT " if self.chance(0.3) else ""
        for v in proj:
            scope.setdefault(v, inner[v])
        return f"{{ SELECT {distinct}{' '.join(proj)} WHERE {{ {body} }}{mod} }}"

    # -- queries ----------------------------------------------------------------------------
    def query(self) -> Query:
        self.thresholds = []
        self.budget = 7
        self.spatial_done = False
        self.base = self.chance(0.2)
        self.empty_prefix = self.chance(0.05) and "empty-prefix" not in self.avoid
        self.in_optional = 0
        head = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
        if self.base:
            head = f"BASE <{EX}>\n" + head
        if self.empty_prefix:
            head += f"PREFIX : <{EX}>\n"
        scope: dict = {}
        r = self.rnd.random()
        if r < 0.35:
            body = self.spatial_group(scope, 1)
            if self.chance(0.5):
                body += " " + self.element(scope, 1)
        else:
            body = self.group(scope, 0)
        q = Query("")
        form = self.rnd.random()
        visible = [v for v in scope if _mentions(v, body)]
        if form < 0.06:
            q.form = "ask"
            q.text = f"{head}ASK {{ {body} }}"
        elif form < 0.11 and visible:
            q.form = "construct"
            nodes = [v for v in visible if scope[v] in ("feat", "geom", "addr")]
            objs = [v for v in visible if scope[v] not in ("dist",)]
            if not nodes or not objs:
                q.form = "select"
            else:
                tmpl = " . ".join(f"{self.rnd.choice(nodes)} ex:p{k} {self.rnd.choice(objs)}" for k in range(2))
                q.text = f"{head}CONSTRUCT {{ {tmpl} }} WHERE {{ {body} }}"
        if not q.text:
            q.text = head + self.select(scope, visible, body, q)
        q.thresholds = list(self.thresholds)
        return q

    def select(self, scope, visible, body, q: Query) -> str:
        rnd = self.rnd
        projectable = [v for v in visible if scope[v] != "dist"]
        if not projectable:
            return f"SELECT {'*' if 'select-star' not in self.avoid else '(1 AS ?one)'} WHERE {{ {body} }}"
        if rnd.random() < 0.2:
            return self.aggregate(scope, projectable, body, q)
        if rnd.random() < 0.1 and not any(scope[v] == "dist" for v in visible) and "select-star" not in self.avoid:
            return f"SELECT * WHERE {{ {body} }}"
        proj = rnd.sample(projectable, min(len(projectable), rnd.randint(1, 4)))
        distinct = rnd.choice(["", "", "", "DISTINCT ", "REDUCED "])
        q.reduced = distinct == "REDUCED "
        items = list(proj)
        if rnd.random() < 0.15:
            v = rnd.choice(proj)
            e = self.fresh("str")
            items.append(f"(STR({v}) AS {e})" if scope[v] not in ("wkt", "odd", "score", "any")
                         else f"(isLiteral({v}) AS {e})")
            scope[e] = "str"
            proj.append(e)
        mod = ""
        if all(scope[v] in ORDERABLE for v in proj) and rnd.random() < 0.6:
            keys = rnd.sample(proj, len(proj))
            mod = " ORDER BY " + " ".join(rnd.choice(["", "DESC", "ASC"]) + f"({v})" for v in keys)
            q.ordered = True
            if rnd.random() < 0.6 and not q.reduced:  # REDUCED may keep any number of duplicates
                mod += f" LIMIT {rnd.randint(1, 10)}"
            if rnd.random() < 0.4 and not q.reduced:
                mod += f" OFFSET {rnd.randint(0, 5)}"
        elif rnd.random() < 0.1:
            mod = f" ORDER BY {rnd.choice(proj)}"  # not total: compared as a multiset
        frm = " FROM ex:graphA" if rnd.random() < 0.03 else ""
        return f"SELECT {distinct}{' '.join(items)}{frm} WHERE {{ {body} }}{mod}"

    def aggregate(self, scope, projectable, body, q: Query) -> str:
        rnd = self.rnd
        keys = [v for v in projectable if scope[v] not in ("wkt",)]
        keys = rnd.sample(keys, min(len(keys), rnd.choice([0, 1, 1, 2])))
        items = list(keys)
        aggs = []
        for _ in range(rnd.randint(1, 3)):
            v = rnd.choice(projectable)
            role = scope[v]
            out_role = "int"
            kind = rnd.random()
            if kind < 0.3:
                e = f"COUNT({rnd.choice(['', 'DISTINCT '])}{v})"
            elif kind < 0.4:
                e = "COUNT(*)"
            elif role in ("rank", "int") and kind < 0.6:
                e = f"{rnd.choice(['SUM', 'MIN', 'MAX'])}({v})"
            elif role in ("label", "str", "date", "cls", "crop") and kind < 0.6:
                e = f"{rnd.choice(['MIN', 'MAX'])}({v})"
                out_role = {"label": "str", "crop": "cls"}.get(role, role)
            elif role in ("label", "str") or (role == "name" and kind < 0.8):
                sep = rnd.choice(["|", ";", "§"])
                out_role = "gc"
                e = f'GROUP_CONCAT({rnd.choice(["", "DISTINCT "])}{v}; separator="{sep}")'
            elif role in ("score",) and kind < 0.8:
                out_role = "num"
                e = f"{rnd.choice(['SUM', 'AVG'])}({v})"
            else:
                e = f"COUNT({v})"
            out = self.fresh(out_role)
            scope[out] = out_role
            if out_role == "gc":
                q.concat[out[1:]] = sep
            items.append(f"({e} AS {out})")
            aggs.append(out)
        text = f"SELECT {' '.join(items)} WHERE {{ {body} }}"
        if keys:
            text += f" GROUP BY {' '.join(keys)}"
            if rnd.random() < 0.3:
                text += f" HAVING (COUNT(*) {rnd.choice(['>', '>=', '<'])} {rnd.randint(1, 3)})"
        outs = keys + aggs
        if all(scope[v] in ORDERABLE for v in outs) and rnd.random() < 0.5:
            text += " ORDER BY " + " ".join(rnd.choice(["", "DESC"]) + f"({v})" for v in outs)
            q.ordered = True
            if rnd.random() < 0.5:
                text += f" LIMIT {rnd.randint(1, 5)}"
        return text


def _mentions(var: str, text: str) -> bool:
    return re.search(re.escape(var) + r"(?![A-Za-z0-9_])", text) is not None


def _escape_local(local: str) -> str:
    out = []
    for k, c in enumerate(local):
        if c in "/#~":
            out.append("\\" + c)
        elif c == "." and k == len(local) - 1:
            out.append("\\.")
        else:
            out.append(c)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# comparing answers

_LIT = re.compile(r'^"(.*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?$', re.S)
_ESC = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))', re.S)
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                              "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}


def _unescape(s: str) -> str:
    return _ESC.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if (m.group(1) or m.group(2))
                    else _SIMPLE.get(m.group(3), "\\" + m.group(3)), s)


def parse_nt(text: str | None):
    """An N-Triples term as a tuple: ("iri", v), ("bnode", label), ("lit", lexical, lang, datatype)."""
    if text is None:
        return None
    if text.startswith("<"):
        return ("iri", text[1:-1])
    if text.startswith("_:"):
        return ("bnode", text[2:])
    m = _LIT.match(text)
    if not m:
        return ("?", text)
    return ("lit", _unescape(m.group(1)), m.group(2), m.group(3) or (None if m.group(2) else XSD + "string"))


def from_ox(term):
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Literal):
        lang = term.language
        return ("lit", term.value, lang, None if lang else term.datatype.value)
    return ("?", str(term))


def _number(lex: str, dt: str) -> str:
    try:
        if dt in INTEGERS:
            return str(int(lex.strip()))
        v = float(lex.strip())
    except ValueError:
        return lex
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "INF" if v > 0 else "-INF"
    if v == 0:
        return "0"
    return f"{v:.12g}"


def _norm_parsed(t, bids: dict, sep: str | None = None):
    if t is None:
        return None
    if t[0] == "bnode":
        return ("bnode", bids.get(t[1], "?"))
    if t[0] != "lit":
        return t
    _, lex, lang, dt = t
    if sep is not None and (lang or dt == XSD + "string"):
        # GROUP_CONCAT: pieces in any order; oxigraph keeps a common language tag (SPARQL 1.2),
        # the store drops it as the SPARQL 1.1 tests agg-groupconcat-04 / -06 require
        return ("lit", sep.join(sorted(lex.split(sep))), None, XSD + "string")
    if lang:
        return ("lit", lex, lang.lower(), None)
    if dt in INTEGERS or dt in (XSD + "decimal", XSD + "double", XSD + "float"):
        kind = "integer" if dt in INTEGERS else dt[len(XSD):]
        return ("lit", _number(lex, dt), None, XSD + kind)
    if dt == XSD + "boolean":
        return ("lit", {"1": "true", "0": "false"}.get(lex.strip(), lex.strip()), None, dt)
    return t


def show(t) -> str:
    if t is None:
        return "-"
    if t[0] == "iri":
        return f"<{t[1]}>"
    if t[0] == "bnode":
        return f"_:{t[1]}"
    if t[0] == "lit":
        s = '"' + t[1].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if t[2]:
            return f"{s}@{t[2]}"
        if t[3] and t[3] != XSD + "string":
            return s + "^^" + (t[3].replace(XSD, "xsd:"))
        return s
    return str(t[1])


@dataclass
class Divergence:
    seed: int
    index: int
    query: str
    ours: object
    theirs: object
    note: str = ""

    @property
    def key(self) -> str:
        return f"s{self.seed}-q{self.index}"

    def report(self) -> str:
        lines = [f"=== divergence {self.key} (data seed {self.seed}, query {self.index}) {self.note}", self.query]
        if isinstance(self.ours, (Counter, list)) and isinstance(self.theirs, (Counter, list)):
            a = Counter(self.ours) if isinstance(self.ours, list) else self.ours
            b = Counter(self.theirs) if isinstance(self.theirs, list) else self.theirs
            extra, missing = a - b, b - a
            lines.append(f"-- store: {sum(a.values())} rows, oxigraph: {sum(b.values())} rows")
            for row, n in list(extra.items())[:12]:
                lines.append(f"   only in store ({n}x): " + "  ".join(show(t) for t in row))
            for row, n in list(missing.items())[:12]:
                lines.append(f"   only in oxigraph ({n}x): " + "  ".join(show(t) for t in row))
            if not extra and not missing:
                lines.append("   same rows, different order:")
                lines.append("   store:    " + " | ".join("  ".join(show(t) for t in r) for r in self.ours[:10]))
                lines.append("   oxigraph: " + " | ".join("  ".join(show(t) for t in r) for r in self.theirs[:10]))
        else:
            lines.append(f"-- store:    {self.ours}")
            lines.append(f"-- oxigraph: {self.theirs}")
        return "\n".join(lines)


MAX_ROWS = 20000  # a reference answer past this is not compared


class _Peer:
    """The query side of pyoxigraph + :class:`Reference`, in a child process: a query past its
    timeout (Oxigraph evaluates some random queries by nested loops for many minutes) is stopped
    by killing the process and starting another.  Frames are pickles over the child's stdin /
    stdout."""

    def __init__(self, text: str, fmt: str):
        self.text, self.fmt = text, fmt
        self._start()

    def _start(self):
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
        code = "from tests.store.differential import _peer_main; _peer_main()"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=root, env=env)
        _send(self.proc.stdin, (self.text, self.fmt))
        _recv(self.proc.stdout)  # loaded

    def query(self, q: Query, timeout: float):
        """(status, answer, ambiguous, calls); status "ok", "syntax", "too big" or "timeout"."""
        _send(self.proc.stdin, (q.text, q.thresholds, q.concat))
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self._stop()
            self._start()
            return "timeout", None, False, 0
        return _recv(self.proc.stdout)

    def _stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()

    def close(self):
        try:
            _send(self.proc.stdin, None)
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            self._stop()
        else:
            self.proc.stdin.close()
            self.proc.stdout.close()


def _send(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(struct.pack("<Q", len(data)) + data)
    f.flush()


def _recv(f):
    head = f.read(8)
    if len(head) < 8:
        raise EOFError("the oxigraph process ended")
    (n,) = struct.unpack("<Q", head)
    return pickle.loads(f.read(n))


def _peer_main():
    """The child process of :class:`_Peer`."""
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the frames
    text, fmt = _recv(inp)
    peer = ox.Store()
    peer.load(text.encode("utf-8"), format=ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS)
    reference = Reference()
    functions = reference.functions()
    bids = {s["b"].value: s["id"].value for s in peer.query(f"SELECT ?b ?id WHERE {{ ?b <{EX}bid> ?id }}")}
    _send(out, "ready")
    while True:
        try:
            job = _recv(inp)
        except EOFError:  # the parent is gone
            return
        if job is None:
            return
        query, thresholds, concat = job
        reference.thresholds, reference.ambiguous, reference.calls = thresholds, False, 0
        try:
            res = peer.query(query, custom_functions=functions)
            if isinstance(res, ox.QueryBoolean):
                answer = bool(res)
            elif isinstance(res, ox.QueryTriples):
                answer = {tuple(_norm_parsed(from_ox(x), bids) for x in (t.subject, t.predicate, t.object))
                          for t in res}
            else:
                vs = [v.value for v in res.variables]
                rows = []
                for k, sol in enumerate(res):
                    if k >= MAX_ROWS:
                        raise _TooBig()
                    rows.append({v: _norm_parsed(from_ox(sol[v]), bids, concat.get(v)) for v in vs})
                answer = (vs, rows)
            _send(out, ("ok", answer, reference.ambiguous, reference.calls))
        except _TooBig:
            _send(out, ("too big", None, False, 0))
        except SyntaxError as e:
            _send(out, ("syntax", str(e), False, 0))


class Runner:
    """Both stores over one dataset."""

    TIMEOUT = 60.0  # the store's
    PEER_TIMEOUT = 20.0  # oxigraph's (then the query is skipped)

    def __init__(self, seed: int, workdir: Path | None = None, text: str | None = None):
        """``text``: other data (in the seed's format) instead of the seed's dataset."""
        from store import Store, load

        logging.getLogger("rdflib").setLevel(logging.ERROR)  # "does not look like a valid URI"
        self.seed = seed
        self.ds = make_dataset(seed)
        self.text = self.ds.text if text is None else text
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="eolinked-diff-")
            workdir = Path(self._tmp.name)
        path = Path(workdir) / f"data-{seed}.{self.ds.fmt}"
        path.write_text(self.text, encoding="utf-8")
        load(Path(workdir) / f"store-{seed}", [path], progress=False)
        self.store = Store(Path(workdir) / f"store-{seed}")
        self.peer = _Peer(self.text, self.ds.fmt)
        self.times = (0.0, 0.0)  # seconds of the last check: oxigraph + reference, store
        self.skip_reason = ""
        q = f"SELECT ?b ?id WHERE {{ ?b <{EX}bid> ?id }}"
        self.our_bids = {parse_nt(r["b"])[1]: parse_nt(r["id"])[1] for r in self.store.query(q).table.to_pylist()}

    def close(self):
        self.peer.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def queries(self, n: int, seed: int | None = None, avoid=()):
        gen = QueryGenerator(self.ds, self.seed * 1_000_003 + (seed or 0), avoid)
        return [gen.query() for _ in range(n)]

    def ours(self, q: Query):
        res = self.store.query(q.text, timeout=self.TIMEOUT)
        if res.kind == "ask":
            return res.boolean
        if res.kind == "graph":
            return {tuple(_norm_parsed(parse_nt(r[c]), self.our_bids) for c in ("s", "p", "o"))
                    for r in res.table.to_pylist()}
        names = res.variables
        rows = [tuple(_norm_parsed(parse_nt(r[v]), self.our_bids, q.concat.get(v)) for v in names)
                for r in res.table.to_pylist()]
        return names, rows

    def check(self, index: int, q: Query) -> Divergence | None | str:
        """A Divergence, None when both agree, "skip" (not comparable: ``skip_reason`` says why)
        or "timeout" (the store's)."""
        t0 = time.perf_counter()
        self.times = (0.0, 0.0)
        status, theirs, ambiguous, calls = self.peer.query(q, self.PEER_TIMEOUT)
        if status == "syntax":
            return Divergence(self.seed, index, q.text, "-", f"oxigraph rejects the query: {theirs}", "generator")
        if status != "ok" or ambiguous or calls > BUDGET:
            self.skip_reason = {"too big": "too many rows", "timeout": "oxigraph timed out"}.get(status) or (
                "distance at a threshold" if ambiguous else "reference budget")
            self.times = (time.perf_counter() - t0, 0.0)
            return "skip"
        t1 = time.perf_counter()
        try:
            ours = self.ours(q)
            self.times = (t1 - t0, time.perf_counter() - t1)
        except QueryTimeout:
            return "timeout"
        except Exception as e:  # noqa: BLE001 - every failure of the store is a divergence
            return Divergence(self.seed, index, q.text, f"{type(e).__name__}: {e}", _summary(theirs), "error")
        if q.form == "ask" or q.form == "construct":
            return None if ours == theirs else Divergence(self.seed, index, q.text, ours, theirs, q.form)
        names, rows = ours
        if sorted(names) != sorted(theirs[0]):
            return Divergence(self.seed, index, q.text, f"variables {names}", f"variables {theirs[0]}", "variables")
        their_rows = [tuple(r[v] for v in names) for r in theirs[1]]
        if q.ordered:
            if q.reduced:  # in order, but any number of duplicates of a row
                rows = [r for k, r in enumerate(rows) if k == 0 or r != rows[k - 1]]
                their_rows = [r for k, r in enumerate(their_rows) if k == 0 or r != their_rows[k - 1]]
            if rows != their_rows:
                return Divergence(self.seed, index, q.text, rows, their_rows, "ordered")
            return None
        if q.reduced:
            if set(rows) != set(their_rows):
                return Divergence(self.seed, index, q.text, Counter(set(rows)), Counter(set(their_rows)), "reduced")
            return None
        if Counter(rows) != Counter(their_rows):
            return Divergence(self.seed, index, q.text, Counter(rows), Counter(their_rows))
        return None


class _TooBig(Exception):
    pass


def _summary(theirs):
    if isinstance(theirs, tuple):
        return f"{len(theirs[1])} rows"
    return theirs


# ---------------------------------------------------------------------------------------------
# minimising a divergence: fewer pattern elements, fewer data lines

_OPENERS = {"(": ")", "{": "}", "[": "]"}
_KEYWORD = re.compile(r"(FILTER\s+NOT\s+EXISTS|FILTER\s+EXISTS|FILTER|BIND|VALUES|OPTIONAL|MINUS|GRAPH)")


def _scan(text: str):
    """(index, char, depth) of every character outside string literals and IRIs."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            i = j + len(quote)
            continue
        if c == "<" and re.match(r"<[^\s<>\"{}|^`]*>", text[i:]) and (i == 0 or text[i - 1] in " ({,^"):
            i += re.match(r"<[^\s<>\"{}|^`]*>", text[i:]).end()
            continue
        if c in _OPENERS:
            depth += 1
        yield i, c, depth
        if c in ")}]":
            depth -= 1
        i += 1


def _elements(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the elements of the group whose body is text[start:end], and of the elements of
    every group nested in them."""
    spans, elem_start, keyword = [], None, None
    body = text[start:end]
    it = list(_scan(body))
    for k, (i, c, depth) in enumerate(it):
        if elem_start is None:
            if c.isspace():
                continue
            elem_start = i
            word = _KEYWORD.match(body, i)
            keyword = word.group(1).split()[-1] if word else ("GROUP" if c == "{" else "TRIPLE")
        closes_to_zero = c in ")}" and depth == 1
        done = False
        if keyword == "TRIPLE":
            done = c == "." and depth == 0 and not body[i + 1:i + 2].isdigit()
        elif keyword in ("FILTER", "BIND"):
            done = closes_to_zero and c == ")"
        elif closes_to_zero and c == "}":
            rest = body[i + 1:].lstrip()
            done = not rest.startswith("UNION")
        if done:
            spans.append((start + elem_start, start + i + 1))
            elem_start = None
    if elem_start is not None:
        spans.append((start + elem_start, end))
    nested = []
    for a, b in spans:  # groups inside the element: { ... } after a keyword, UNION, or at its start
        for m in _group_bodies(text, a, b):
            nested += _elements(text, *m)
    return spans + nested


def _group_bodies(text: str, a: int, b: int):
    depth_zero_open = None
    for i, c, depth in _scan(text[a:b]):
        if c == "{" and depth == 1:
            depth_zero_open = i
        elif c == "}" and depth == 1 and depth_zero_open is not None:
            inner = text[a + depth_zero_open + 1:a + i]
            if not re.match(r"\s*SELECT\b", inner):
                yield a + depth_zero_open + 1, a + i
            depth_zero_open = None


def minimise_query(runner: "Runner", q: Query, note: str | None = None) -> Query:
    """Delete pattern elements and solution modifiers while the same kind of divergence remains."""
    def still(text):
        cand = Query(text, q.form, q.ordered and "ORDER BY" in text, q.reduced, q.concat, q.thresholds)
        try:
            d = runner.check(0, cand)
        except Exception:  # noqa: BLE001
            return False
        return isinstance(d, Divergence) and d.note == note
    note = note if note is not None else getattr(runner.check(0, q), "note", None)
    text = q.text
    changed = True
    while changed:
        changed = False
        m = re.search(r"\bWHERE\s*\{", text) or re.search(r"\b(ASK)\s*\{", text)
        if m is None:
            break
        open_at = m.end() - 1
        close_at = next(i for i, c, d in _scan(text[open_at:]) if c == "}" and d == 1) + open_at
        spans = sorted(set(_elements(text, open_at + 1, close_at)), key=lambda s: s[0] - s[1])
        for a, b in spans:
            cand = text[:a] + text[b:]
            if still(cand):
                text, changed = cand, True
                break
        if not changed:
            for pat in (r"\s+LIMIT \d+", r"\s+OFFSET \d+", r"\s+ORDER BY .*$", r"DISTINCT ", r"REDUCED ",
                        r"\s+HAVING \(.*?\)\s*$"):
                cand = re.sub(pat, "", text, count=1)
                if cand != text and still(cand):
                    text, changed = cand, True
                    break
    return Query(text, q.form, q.ordered and "ORDER BY" in text, q.reduced, q.concat, q.thresholds)


def minimise_data(seed: int, q: Query, note: str | None, text: str | None = None, rounds: int = 8) -> str:
    """Delete data lines (chunks, then single lines) while the divergence remains; TriG graph
    blocks are kept whole.  Each try reloads the store, so this takes a while."""
    ds = make_dataset(seed)
    text = ds.text if text is None else text
    lines = text.splitlines()
    fixed = [i for i, l in enumerate(lines) if l.endswith("{") or l == "}"]

    def diverges(keep):
        r = Runner(seed, text="\n".join(lines[i] for i in sorted(keep)) + "\n")
        try:
            d = r.check(0, q)
            return isinstance(d, Divergence) and (note is None or d.note == note)
        finally:
            r.close()

    keep = set(range(len(lines)))
    removable = [i for i in range(len(lines)) if i not in fixed]
    chunk = max(len(removable) // 2, 1)
    for _ in range(rounds * 4):
        removable = [i for i in sorted(keep) if i not in fixed]
        if not removable or chunk < 1:
            break
        progress = False
        for k in range(0, len(removable), chunk):
            part = set(removable[k:k + chunk])
            if diverges(keep - part):
                keep -= part
                progress = True
        if not progress:
            if chunk == 1:
                break
            chunk = max(chunk // 2, 1)
    return "\n".join(lines[i] for i in sorted(keep)) + "\n"


def run(n_queries: int, seed: int, out=None, query_seed: int | None = None, avoid=()) -> tuple[list[Divergence], dict]:
    runner = Runner(seed)
    stats = Counter()
    found = []
    slow = []
    try:
        for i, q in enumerate(runner.queries(n_queries, query_seed, avoid)):
            d = runner.check(i, q)
            stats["oxigraph_s"] += runner.times[0]
            stats["store_s"] += runner.times[1]
            if sum(runner.times) > 2:
                slow.append((round(runner.times[0], 1), round(runner.times[1], 1), f"s{seed}-q{i}"))
            if d in ("skip", "timeout"):
                stats["skipped" if d == "skip" else "timeout"] += 1
                if d == "skip":
                    stats["skipped: " + runner.skip_reason] += 1
            elif d is None:
                stats["agree"] += 1
            else:
                stats["diverge"] += 1
                found.append(d)
                if out is not None:
                    print(d.report(), file=out, flush=True)
    finally:
        runner.close()
    stats["slow"] = slow
    return found, dict(stats)


def _nth(seed: int, n: int, avoid=()) -> str:
    gen = QueryGenerator(make_dataset(seed), seed * 1_000_003, avoid)
    for _ in range(n):
        gen.query()
    return gen.query().text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.store.differential",
                                 description="compare the store's answers with pyoxigraph's on random data and queries")
    ap.add_argument("--queries", type=int, default=500, help="queries per dataset (default 500)")
    ap.add_argument("--seed", type=int, default=1, help="first dataset seed")
    ap.add_argument("--datasets", type=int, default=1, help="number of datasets (seeds seed, seed+1, ...)")
    ap.add_argument("--show", type=int, default=None,
                    help="only print query number N of the first dataset (-1: the dataset)")
    ap.add_argument("--minimise", type=int, default=None, metavar="N",
                    help="minimise divergence number N of the first dataset (query, then data) and print it")
    ap.add_argument("--avoid", action="append", default=[], choices=sorted(AVOIDABLE),
                    help="leave a construct out of the queries (repeatable), to look past a known divergence")
    args = ap.parse_args(argv)
    if args.show is not None:
        print(make_dataset(args.seed).text if args.show < 0 else _nth(args.seed, args.show, args.avoid))
        return 0
    if args.minimise is not None:
        runner = Runner(args.seed)
        q = runner.queries(args.minimise + 1, avoid=args.avoid)[args.minimise]
        d = runner.check(args.minimise, q)
        if not isinstance(d, Divergence):
            print(f"query {args.minimise} does not diverge ({d})")
            return 0
        small = minimise_query(runner, q, d.note)
        runner.close()
        print("-- minimal query:\n" + small.text)
        data = minimise_data(args.seed, small, d.note)
        print("-- minimal data:\n" + data)
        r = Runner(args.seed, text=data)
        print(r.check(args.minimise, small).report())
        r.close()
        return 0
    total = Counter()
    every = []
    start = time.perf_counter()
    slow = []
    for seed in range(args.seed, args.seed + args.datasets):
        found, stats = run(args.queries, seed, out=sys.stdout, avoid=args.avoid)
        slow += stats.pop("slow")
        total.update(stats)
        every += found
    took = time.perf_counter() - start
    n = sum(total.get(k, 0) for k in ("agree", "diverge", "skipped", "timeout"))
    reasons = {k[len("skipped: "):]: v for k, v in total.items() if k.startswith("skipped: ")}
    print(f"\n{n} queries in {took:.0f} s (oxigraph + reference {total['oxigraph_s']:.0f} s, store "
          f"{total['store_s']:.0f} s): {total.get('agree', 0)} agree, {total.get('diverge', 0)} diverge, "
          f"{total.get('skipped', 0)} skipped {reasons or ''}, {total.get('timeout', 0)} timed out")
    if slow:
        print("slow (oxigraph s, store s): " + ", ".join(f"{k} ({a}, {b})" for a, b, k in slow))
    for d in every:
        print(f"  {d.key} {d.note}")
    return 1 if every else 0


if __name__ == "__main__":
    sys.exit(main())

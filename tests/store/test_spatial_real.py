"""The store's spatial answers on real data equal shapely's (GEOS) and pyproj's, whatever the
query form: every sf / eh / rcc8 relation as a FILTER join (alone, with BIND, OPTIONAL, VALUES
or another condition in the group), as BIND, and a geodesic distance join.

Data: OSM Liechtenstein multipolygons (4,104) and NUTS-3 regions (1,480), self-joins.  The
reference computes every relation from shapely directly over STRtree candidates (the relation
tables of GeoSPARQL 1.0 written out here, independently of eolinked's)."""
from __future__ import annotations

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from store import Store, load

GEO = "http://www.opengis.net/ont/geosparql#"
PREFIXES = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
            "PREFIX geof: <http://www.opengis.net/def/function/geosparql/>\n"
            "PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>\n")
# GeoSPARQL 1.0 tables 7 and 8 (Egenhofer, RCC8); Simple Features through shapely's predicates
EH_RCC8 = {
    "ehEquals": ["TFFFTFFFT"], "ehMeet": ["FT*******", "F**T*****", "F***T****"], "ehOverlap": ["T*T***T**"],
    "ehCovers": ["T*TFT*FF*"], "ehCoveredBy": ["TFF*TFT**"], "ehInside": ["TFF*FFT**"], "ehContains": ["T*TFF*FF*"],
    "rcc8eq": ["TFFFTFFFT"], "rcc8ec": ["FFTFTTTTT"], "rcc8po": ["TTTTTTTTT"], "rcc8tppi": ["TTTFTTFFT"],
    "rcc8tpp": ["TFFTTFTTT"], "rcc8ntpp": ["TFFTFFTTT"], "rcc8ntppi": ["TTTFFTFFT"],
}
SF = {"sfEquals": shapely.equals, "sfIntersects": shapely.intersects, "sfTouches": shapely.touches,
      "sfWithin": shapely.within, "sfContains": shapely.contains, "sfOverlaps": shapely.overlaps,
      "sfCrosses": shapely.crosses}
RELATIONS = [*SF, *EH_RCC8]


def reference(geoms: np.ndarray, name: str, pairs: tuple[np.ndarray, np.ndarray]) -> set:
    a, b = geoms[pairs[0]], geoms[pairs[1]]
    if name in SF:
        hit = SF[name](a, b)
    else:
        hit = np.zeros(len(a), bool)
        for p in EH_RCC8[name]:
            hit |= shapely.relate_pattern(a, b, p)
    return set(zip(pairs[0][hit].tolist(), pairs[1][hit].tolist()))


class Dataset:
    def __init__(self, tmp, name: str, geoms: np.ndarray):
        self.geoms = geoms
        path = tmp / f"{name}.nt"
        with open(path, "w") as f:
            for i, g in enumerate(geoms):
                wkt = shapely.to_wkt(g, rounding_precision=-1)
                f.write(f"<http://ex.org/{i}> <{GEO}hasGeometry> <http://ex.org/{i}/g> .\n"
                        f"<http://ex.org/{i}/g> <{GEO}asWKT> \"{wkt}\"^^<{GEO}wktLiteral> .\n")
        load(tmp / name, [path])
        self.store = Store(tmp / name)
        tree = shapely.STRtree(geoms)
        self.candidates = tree.query(geoms)  # every pair whose boxes overlap
        self.cache = {}

    def expected(self, name: str) -> set:
        if name not in self.cache:
            self.cache[name] = reference(self.geoms, name, (self.candidates[0], self.candidates[1]))
        return self.cache[name]

    def pairs(self, query: str, explain: bool = True) -> set:
        text = PREFIXES + query
        if explain:
            assert "CROSS JOIN" not in self.store.sql(text), self.store.sql(text)
        t = self.store.query(text).table
        return {(_num(a), _num(b)) for a, b in zip(t.column("a").to_pylist(), t.column("b").to_pylist())}


def _num(iri: str) -> int:
    return int(iri.rsplit("/", 2)[1]) if iri.endswith("/g>") else int(iri.rsplit("/", 1)[1][:-1])


def _read(path, layer=None) -> np.ndarray:
    _, _, wkb, _ = pyogrio.raw.read(path, layer=layer)
    geoms = shapely.from_wkb(wkb)
    return geoms[~shapely.is_empty(geoms) & shapely.is_valid(geoms)]


@pytest.fixture(scope="module")
def osm(tmp_path_factory, shared_data):
    return Dataset(tmp_path_factory.mktemp("osm"), "osm",
                   _read(shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf", "multipolygons"))


@pytest.fixture(scope="module")
def nuts(tmp_path_factory, shared_data):
    return Dataset(tmp_path_factory.mktemp("nuts"), "nuts", _read(shared_data / "nuts" / "nuts_3.json"))


PAIR = "?a geo:hasGeometry ?ea . ?ea geo:asWKT ?ga . ?b geo:hasGeometry ?eb . ?eb geo:asWKT ?gb ."
FORMS = {
    "filter": "{PAIR} FILTER(geof:{R}(?ga, ?gb))",
    "bind": "{PAIR} BIND(STRLEN(STR(?a)) AS ?n) FILTER(geof:{R}(?ga, ?gb))",
    "optional": "{PAIR} OPTIONAL {{ ?a <http://ex.org/none> ?z }} FILTER(geof:{R}(?ga, ?gb))",
    "values": "?a geo:hasGeometry ?ea . ?ea ?p ?ga . VALUES ?p {{ geo:asWKT }} ?b geo:hasGeometry ?eb . "
              "?eb geo:asWKT ?gb . FILTER(geof:{R}(?ga, ?gb))",
    "conjunction": "{PAIR} FILTER(geof:{R}(?ga, ?gb) && STRLEN(STR(?b)) > 0)",
}


def _query(form: str, rel: str) -> str:
    return "SELECT ?a ?b WHERE { " + FORMS[form].format(PAIR=PAIR, R=rel) + " }"


@pytest.mark.parametrize("rel", RELATIONS)
def test_nuts_every_relation_every_form(nuts, rel):
    want = nuts.expected(rel)
    for form in FORMS:
        assert nuts.pairs(_query(form, rel)) == want, form


@pytest.mark.parametrize("rel", RELATIONS)
def test_osm_every_relation(osm, rel):
    form = list(FORMS)[RELATIONS.index(rel) % len(FORMS)]  # every form, over the relations
    assert osm.pairs(_query("filter", rel)) == osm.expected(rel)
    if form != "filter":
        assert osm.pairs(_query(form, rel)) == osm.expected(rel), form


@pytest.mark.parametrize("data", ["nuts", "osm"])
def test_every_relation_as_bind(request, data):
    """BIND of each relation over the intersecting pairs gives the reference's truth value."""
    ds = request.getfixturevalue(data)
    binds = " ".join(f"BIND(geof:{r}(?ga, ?gb) AS ?{r})" for r in RELATIONS)
    text = PREFIXES + f"SELECT * WHERE {{ {PAIR} FILTER(geof:sfIntersects(?ga, ?gb)) {binds} }}"
    t = ds.store.query(text).table
    pairs = list(zip(map(_num, t.column("a").to_pylist()), map(_num, t.column("b").to_pylist())))
    assert set(pairs) == ds.expected("sfIntersects")
    true = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    for r in RELATIONS:
        got = {p for p, v in zip(pairs, t.column(r).to_pylist()) if v == true}
        assert got == ds.expected(r), r


def test_nuts_touching_multipolygons(shared_data, nuts):
    """CH023 x CH032 (two valid MultiPolygons that touch, FF2F11212): SedonaDB's own ST_Within
    raises on them and its ST_Touches says false; the store answers as GEOS does."""
    _, _, wkb, fields = pyogrio.raw.read(shared_data / "nuts" / "nuts_3.json", columns=["NUTS_ID"])
    codes = list(fields[0])
    order = {id(g): k for k, g in enumerate(nuts.geoms)}
    assert order is not None
    i, j = codes.index("CH023"), codes.index("CH032")
    gi, gj = shapely.from_wkb(wkb[i]), shapely.from_wkb(wkb[j])
    assert shapely.relate(gi, gj) == "FF2F11212"
    ki = next(k for k, g in enumerate(nuts.geoms) if shapely.equals_exact(g, gi, 0))
    kj = next(k for k, g in enumerate(nuts.geoms) if shapely.equals_exact(g, gj, 0))
    for rel, want in (("sfTouches", True), ("sfWithin", False), ("sfContains", False), ("ehMeet", True),
                      ("rcc8ec", True), ("sfIntersects", True)):
        got = nuts.pairs(_query("filter", rel))
        assert ((ki, kj) in got) == want, rel
    relate = PREFIXES + (f"SELECT ?m WHERE {{ <http://ex.org/{ki}/g> geo:asWKT ?ga . "
                         f"<http://ex.org/{kj}/g> geo:asWKT ?gb . "
                         f"BIND(geof:relate(?ga, ?gb, \"FF2F11212\") AS ?m) }}")
    assert nuts.store.query(relate).table.column("m").to_pylist() == [
        '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>']


@pytest.fixture(scope="module")
def points(tmp_path_factory, shared_data):
    return Dataset(tmp_path_factory.mktemp("pts"), "pts",
                   _read(shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf", "points"))


@pytest.mark.parametrize("limit", [300.0, 25.0])
def test_geodesic_distance_join(points, limit):
    """Points within N m (geodesic on WGS84) equal pyproj.Geod over all pairs, also with
    other parts in the group and with the constant on the left."""
    xy = shapely.get_coordinates(points.geoms)
    n = len(xy)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    i, j = i.ravel(), j.ravel()
    d = pyproj.Geod(ellps="WGS84").inv(xy[i, 0], xy[i, 1], xy[j, 0], xy[j, 1])[2]
    want = set(zip(i[d <= limit].tolist(), j[d <= limit].tolist()))
    for cond in (f"geof:distance(?ga, ?gb, uom:metre) <= {limit}",
                 f"{limit} >= geof:metricDistance(?ga, ?gb)",
                 f"geof:distance(?ga, ?gb, <http://www.opengis.net/def/uom/OGC/1.0/kilometre>) <= {limit / 1000}"):
        q = f"SELECT ?a ?b WHERE {{ {PAIR} BIND(1 AS ?one) FILTER({cond}) }}"
        assert points.pairs(q) == want, cond


DISJOINT = {"sfDisjoint": ["FF*FF****"], "ehDisjoint": ["FF*FF****"], "rcc8dc": ["FFTFFTTTT"]}


@pytest.fixture(scope="module")
def rewrite_store(tmp_path_factory, shared_data):
    """Austria's NUTS-3 regions, a point in each of five, and an empty geometry, as features
    with geo:hasDefaultGeometry, opened with RDFS entailment (GeoSPARQL's query rewrite)."""
    _, _, wkb, fields = pyogrio.raw.read(shared_data / "nuts" / "nuts_3.json", columns=["NUTS_ID"])
    keep = [k for k, code in enumerate(fields[0]) if str(code).startswith("AT")]
    regions = shapely.from_wkb(wkb[keep])
    geoms = np.concatenate([regions, shapely.point_on_surface(regions[:5]), [shapely.Point()]])
    tmp = tmp_path_factory.mktemp("rewrite")
    with open(tmp / "at.nt", "w") as f:
        for i, g in enumerate(geoms):
            wkt = "" if g.is_empty else shapely.to_wkt(g, rounding_precision=-1)
            f.write(f"<http://ex.org/{i}> <{GEO}hasDefaultGeometry> <http://ex.org/{i}/g> .\n"
                    f"<http://ex.org/{i}/g> <{GEO}asWKT> \"{wkt}\"^^<{GEO}wktLiteral> .\n")
    load(tmp / "st", [tmp / "at.nt"])
    return geoms, Store(tmp / "st", entailment="rdfs")


@pytest.mark.parametrize("rel", [*RELATIONS, *DISJOINT])
def test_rdfs_rewrite_equals_the_function(rewrite_store, rel):
    """Under --rdfs, ``?a geo:R ?b`` holds between features and geometries exactly where
    ``geof:R`` holds on their geometries (not ST_Disjoint / ST_Touches), also from a constant."""
    geoms, st = rewrite_store
    n = len(geoms)
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    if rel in SF or rel in DISJOINT and rel == "sfDisjoint":
        hit = SF[rel](geoms[i], geoms[j]) if rel in SF else shapely.disjoint(geoms[i], geoms[j])
    else:
        hit = np.zeros(len(i), bool)
        for p in {**EH_RCC8, **DISJOINT}[rel]:
            hit |= shapely.relate_pattern(geoms[i], geoms[j], p)
    want = {(a, b) for a, b in zip(i[hit].tolist(), j[hit].tolist())}
    nodes = {f"<http://ex.org/{k}>": k for k in range(n)} | {f"<http://ex.org/{k}/g>": k for k in range(n)}
    t = st.query(PREFIXES + f"SELECT ?a ?b WHERE {{ ?a geo:{rel} ?b }}").table
    got = [(nodes[a], nodes[b]) for a, b in zip(t.column("a").to_pylist(), t.column("b").to_pylist())]
    assert set(got) == want
    assert len(got) == 4 * len(want)  # feature-feature, feature-geometry, geometry-feature, geometry-geometry
    for k in (0, n - 2, n - 1):  # a region, a point, the empty geometry as the constant subject
        t = st.query(PREFIXES + f"SELECT ?b WHERE {{ <http://ex.org/{k}> geo:{rel} ?b }}").table
        assert {nodes[b] for b in t.column("b").to_pylist()} == {b for a, b in want if a == k}


@pytest.mark.parametrize("rel", ["sfTouches", "sfWithin", "ehCoveredBy", "rcc8ntpp"])
def test_having_equals_filter(nuts, rel):
    """HAVING over grouped pairs runs the same function as FILTER and BIND."""
    q = (f"SELECT ?a ?b WHERE {{ {PAIR} FILTER(geof:sfIntersects(?ga, ?gb)) }} "
         f"GROUP BY ?a ?b ?ga ?gb HAVING(geof:{rel}(?ga, ?gb))")
    assert nuts.pairs(q) == nuts.expected(rel)


def test_distance_to_a_constant_and_in_degrees(points):
    """A distance FILTER against a constant prunes on the bounding-box columns; uom:degree is
    planar in lon/lat; both equal the reference."""
    xy = shapely.get_coordinates(points.geoms)
    cx, cy = float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))
    d = pyproj.Geod(ellps="WGS84").inv(xy[:, 0], xy[:, 1], np.full(len(xy), cx), np.full(len(xy), cy))[2]
    const = f'"POINT({cx!r} {cy!r})"^^geo:wktLiteral'
    q = (f"SELECT ?a ?b WHERE {{ ?a geo:hasGeometry ?b . ?b geo:asWKT ?ga . "
         f"FILTER(geof:distance({const}, ?ga, uom:metre) < 1500) }}")
    assert {a for a, _ in points.pairs(q)} == set(np.flatnonzero(d < 1500).tolist())
    n = len(xy)
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    planar = np.hypot(xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1])
    want = set(zip(i[planar <= 0.002].tolist(), j[planar <= 0.002].tolist()))
    q = f"SELECT ?a ?b WHERE {{ {PAIR} FILTER(geof:distance(?ga, ?gb, uom:degree) <= 0.002) }}"
    assert points.pairs(q) == want

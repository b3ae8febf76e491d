import json

import numpy as np
import pyarrow as pa
import pyproj
import pytest
import shapely

from eolinked import literals as L
from eolinked.crs import CRS84_IRI
from eolinked.errors import EolinkedError
from eolinked.vocab import GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
WKTS = [
    "POINT (23.7 37.9)",
    "LINESTRING (0.1 0.2, 10.000000000000002 -3.3333333333333335, 1e-300 1e+20)",
    "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), (5.2 5.1, 5.8 5.1, 5.8 5.7, 5.2 5.1)))",
    "MULTIPOINT ((1 2), (3 4))",
    "MULTILINESTRING ((1 2, 3 4), (5 6, 7 8))",
    "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1), POLYGON ((0 0, 1 0, 1 1, 0 0)), "
    "GEOMETRYCOLLECTION (MULTIPOINT ((7 8))))",
    "POINT EMPTY",
    "POLYGON EMPTY",
    "GEOMETRYCOLLECTION EMPTY",
    "POINT Z (1 2 3)",
    "POLYGON Z ((0 0 1, 1 0 2, 1 1 3, 0 0 1))",
    "MULTILINESTRING Z ((1 2 3, 4 5 6))",
]
CRSS = ["OGC:CRS84", "EPSG:4326", "EPSG:31287", "EPSG:25832"]


@pytest.fixture
def geoms():
    rng = np.random.default_rng(7)
    extra = shapely.points(rng.random((5, 2)) * 10.0 ** rng.integers(-8, 8, (5, 1)))
    return np.concatenate([shapely.from_wkt(WKTS), extra, [None]])


def same(a, b):
    return (shapely.equals_exact(a, b, tolerance=0) | (shapely.is_missing(a) & shapely.is_missing(b))).all() and \
        (shapely.has_z(a) == shapely.has_z(b)).all()


def test_wkt_axis_order():
    p = np.array([shapely.Point(23.7, 37.9)])
    assert L.wkt_literals(p, "EPSG:4326").to_pylist() == [f"<{EPSG}4326> POINT (37.9 23.7)"]
    assert L.wkt_literals(p, "EPSG:31287").to_pylist() == [f"<{EPSG}31287> POINT (37.9 23.7)"]
    assert L.wkt_literals(p, "EPSG:25832").to_pylist() == [f"<{EPSG}25832> POINT (23.7 37.9)"]
    assert L.wkt_literals(p, pyproj.CRS("OGC:CRS84")).to_pylist() == ["POINT (23.7 37.9)"]
    assert L.wkt_literals(np.array([shapely.Point(1, 2, 3)]), "EPSG:4326").to_pylist() == \
        [f"<{EPSG}4326> POINT Z (2 1 3)"]


@pytest.mark.parametrize("crs", CRSS)
def test_wkt_round_trip(geoms, crs):
    lex = L.wkt_literals(geoms, crs)
    assert isinstance(lex, pa.StringArray) and lex.null_count == 1
    back, iris = L.parse_wkt_literals(lex)
    assert same(back, geoms)
    iri = CRS84_IRI if crs == "OGC:CRS84" else EPSG + crs[5:]
    assert iris == [iri] * (len(geoms) - 1) + [None]


def test_parse_wkt_mixed_crs_and_case():
    back, iris = L.parse_wkt_literals([
        f"<{EPSG}4326>  point(37.9 23.7)", "Point (23.7 37.9)", None,
        f"<{EPSG}31287>\nPOINT(10 20)", "<http://www.opengis.net/def/crs/OGC/0/CRS84> POINT (1 2)"])
    assert shapely.to_wkt(back).tolist() == ["POINT (23.7 37.9)", "POINT (23.7 37.9)", None,
                                             "POINT (20 10)", "POINT (1 2)"]
    assert iris == [EPSG + "4326", CRS84_IRI, None, EPSG + "31287", CRS84_IRI]


def test_parse_wkt_invalid():
    bad = ["POINT (1 2)", "POINT (1 2)", "POINT (1 oops)"]
    with pytest.raises(EolinkedError, match=r"index 2: 'POINT \(1 oops\)'") as err:
        L.parse_wkt_literals(pa.array(bad))
    assert err.value.hint
    with pytest.raises(EolinkedError, match="index 1.*unknown CRS"):
        L.parse_wkt_literals(["POINT (1 2)", "<http://example.org/crs> POINT (1 2)"])
    geoms, iris = L.parse_wkt_literals(bad + ["<http://example.org/crs> POINT (1 2)"], on_invalid="null")
    assert shapely.is_missing(geoms).tolist() == [False, False, True, True] and iris[2:] == [None, None]


def test_wkt_custom_crs_rejected():
    lcc = pyproj.CRS.from_proj4("+proj=lcc +lat_0=40 +lon_0=-100 +lat_1=49 +lat_2=77 +datum=WGS84")
    with pytest.raises(EolinkedError, match="no authority IRI"):
        L.wkt_literals(np.array([shapely.Point(1, 2)]), lcc)


def test_gml_form():
    lex = L.gml_literals(np.array([shapely.Point(23.7, 37.9), shapely.Point(1, 2, 3)]), "EPSG:4326").to_pylist()
    head = f'xmlns:gml="http://www.opengis.net/gml/3.2" srsName="{EPSG}4326"'
    assert lex[0] == f"<gml:Point {head}><gml:pos>37.9 23.7</gml:pos></gml:Point>"
    assert lex[1] == f'<gml:Point {head} srsDimension="3"><gml:pos>2 1 3</gml:pos></gml:Point>'
    poly = L.gml_literals(shapely.from_wkt(WKTS[2:4]), "EPSG:25832").to_pylist()
    assert "<gml:exterior><gml:LinearRing><gml:posList>0 0 10 0 10 10 0 10 0 0</gml:posList>" in poly[0]
    assert poly[0].count("<gml:interior>") == 1 and poly[1].count("<gml:surfaceMember>") == 2


@pytest.mark.parametrize("crs", CRSS)
def test_gml_round_trip(geoms, crs):
    back, iris = L.parse_gml_literals(L.gml_literals(geoms, crs))
    assert same(back, geoms)
    assert iris[0] == (CRS84_IRI if crs == "OGC:CRS84" else EPSG + crs[5:]) and iris[-1] is None


def test_parse_gml_older_forms():
    gml2 = ('<gml:Polygon xmlns:gml="http://www.opengis.net/gml" srsName="EPSG:4326"><gml:outerBoundaryIs>'
            '<gml:LinearRing><gml:coordinates>0,0 10,0 10,10 0,0</gml:coordinates></gml:LinearRing>'
            '</gml:outerBoundaryIs></gml:Polygon>')
    gml31 = ('<gml:LineString xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326">'
             '<gml:pos>37.9 23.7</gml:pos><gml:pos>38 24</gml:pos></gml:LineString>')
    multi = ('<gml:MultiPolygon xmlns:gml="http://www.opengis.net/gml"><gml:polygonMember><gml:Polygon>'
             '<gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing>'
             '</gml:exterior></gml:Polygon></gml:polygonMember></gml:MultiPolygon>')
    geoms, iris = L.parse_gml_literals([gml2, gml31, multi])
    assert shapely.to_wkt(geoms).tolist() == ["POLYGON ((0 0, 10 0, 10 10, 0 0))",  # legacy EPSG:n is x/y
                                              "LINESTRING (23.7 37.9, 24 38)",
                                              "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"]
    assert iris == [EPSG + "4326", EPSG + "4326", CRS84_IRI]


def test_parse_gml_invalid():
    with pytest.raises(EolinkedError, match="index 1"):
        L.parse_gml_literals(["<gml:Point xmlns:gml='http://www.opengis.net/gml/3.2'/>", "<gml:Point"])
    geoms, _ = L.parse_gml_literals(["<x/>"], on_invalid="null")
    assert geoms.tolist() == [None]


@pytest.mark.parametrize("crs", ["OGC:CRS84", "EPSG:4326"])
def test_geojson_round_trip(geoms, crs):
    lex = L.geojson_literals(geoms, crs)
    assert json.loads(lex[0].as_py()) == {"type": "Point", "coordinates": [23.7, 37.9]}
    assert same(L.parse_geojson_literals(lex), geoms)


def test_geojson_reprojects():
    pt = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(9.5, 50.2)
    lex = L.geojson_literals(np.array([shapely.Point(*pt)]), "EPSG:25832")
    lon, lat = json.loads(lex[0].as_py())["coordinates"]
    assert abs(lon - 9.5) < 1e-9 and abs(lat - 50.2) < 1e-9
    with pytest.raises(EolinkedError, match="index 0"):
        L.parse_geojson_literals(['{"type": "Pointy"}'])


def test_literal_geometries_dispatch(geoms):
    for datatype, write in [(WKT_LITERAL, L.wkt_literals), (GML_LITERAL, L.gml_literals),
                            (GEOJSON_LITERAL, L.geojson_literals)]:
        back, iris = L.literal_geometries(write(geoms, "EPSG:4326"), datatype)
        assert shapely.equals_exact(back[0], shapely.Point(23.7, 37.9), tolerance=0)
        assert iris[-1] is None and iris[0] in (EPSG + "4326", CRS84_IRI)
    with pytest.raises(EolinkedError, match="not a geometry literal"):
        L.literal_geometries(["x"], "http://www.w3.org/2001/XMLSchema#string")


@pytest.mark.parametrize("datatype,texts", [
    (WKT_LITERAL, ["", "   ", "\n\t", f"<{EPSG}4326> ", f"<{EPSG}4326>", f" <{EPSG}25832>  \n"]),
    (GML_LITERAL, ["", "  ", "\n"]),
    (GEOJSON_LITERAL, ["", " \t "]),
])
def test_empty_literals_are_empty_geometries(datatype, texts):
    """GeoSPARQL 1.1 Req 13 / 16: an empty literal is an empty geometry, not an invalid one."""
    geoms, iris = L.literal_geometries(pa.array(texts + [None]), datatype)
    assert shapely.is_empty(geoms[:-1]).all() and geoms[-1] is None
    assert iris[-1] is None
    expected = [f"{EPSG}4326" if "4326" in t else f"{EPSG}25832" if "25832" in t else CRS84_IRI for t in texts]
    assert iris[:-1] == expected
    # still strict about real garbage
    with pytest.raises(EolinkedError):
        L.literal_geometries(pa.array(texts + ["x"]), datatype)


def test_empty_wkt_unknown_crs_is_invalid():
    geoms, iris = L.parse_wkt_literals(["<http://example.org/crs> "], on_invalid="null")
    assert geoms.tolist() == [None] and iris == [None]


@pytest.mark.parametrize("datatype,texts", [
    (WKT_LITERAL, ["", " ", f"<{EPSG}4326> ", f"<{EPSG}25832>"]), (GML_LITERAL, ["", "\n "]),
    (GEOJSON_LITERAL, [" "]), ("http://www.opengis.net/ont/geosparql#kmlLiteral", ["", "  "]),
])
def test_function_library_reads_empty_literals_as_the_loader_does(datatype, texts):
    """eolinked.geosparql (what FILTERs and BINDs compute) and eolinked.literals (what the loader
    stores) agree: the same empty geometry in the same CRS; geof:isEmpty true, getSRID that CRS."""
    from eolinked.geosparql import GEO_SCALARS
    from eolinked.geosparql._core import geometries
    from eolinked.terms import Terms, to_nt

    terms = Terms.literals(pa.array(texts), datatype)
    g = geometries(terms)
    assert shapely.is_empty(g.geom).all()
    if not datatype.endswith("kmlLiteral"):
        _, iris = L.literal_geometries(pa.array(texts), datatype)
        assert g.crs.tolist() == iris
    gf = "http://www.opengis.net/def/function/geosparql/"
    assert set(to_nt(GEO_SCALARS[gf + "isEmpty"](terms)).to_pylist()) == {
        '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'}
    srids = to_nt(GEO_SCALARS[gf + "getSRID"](terms)).to_pylist()
    assert [s.strip('"').split('"')[0] for s in srids] == g.crs.tolist()
    point = Terms.literals(pa.array(["POINT (1 2)"] * len(texts)), WKT_LITERAL)
    assert set(to_nt(GEO_SCALARS[gf + "sfIntersects"](terms, point)).to_pylist()) == {
        '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>'}
    assert set(to_nt(GEO_SCALARS[gf + "sfDisjoint"](terms, point)).to_pylist()) == {
        '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'}

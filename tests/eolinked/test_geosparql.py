"""GeoSPARQL function library: relations against shapely, units, CRS mixes, empties, errors,
aggregates, and the GeoSPARQL Compliance Benchmark's function queries (read in place)."""
from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyproj
import pytest
import shapely

from eolinked.crs import CRS84_IRI
from eolinked.geosparql import GEO_AGGREGATES, GEO_SCALARS, geometry_properties
from eolinked.terms import Terms, to_nt
from eolinked.vocab import (
    GEO,
    GEOF,
    GEOJSON_LITERAL,
    GML_LITERAL,
    SF,
    UOM,
    WKT_LITERAL,
    XSD,
)

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GSB = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "geosparql"
WGS84 = pyproj.Geod(ellps="WGS84")


def f(name):
    return GEO_SCALARS[GEOF + name]


def wkt(*values):
    return Terms.literals(list(values), WKT_LITERAL)


def num(*values, dt="double"):
    return Terms.literals([str(v) for v in values], XSD + dt)


def unit(name, n):
    return Terms.iris([UOM + name] * n)


def values(t: Terms):
    """Lexical forms, None for errors."""
    return [v if k is not None else None for v, k in zip(t.value.to_pylist(), t.kind.to_pylist())]


def floats(t: Terms):
    return np.array([np.nan if v is None else float(v) for v in values(t)])


def bools(t: Terms):
    return [None if v is None else v == "true" for v in values(t)]


def geoms_of(t: Terms):
    from eolinked.literals import parse_wkt_literals
    return parse_wkt_literals(pa.array(values(t), pa.string()))


# -- relations ---------------------------------------------------------------------------------
SAMPLE = [
    "POINT (1 1)", "POINT (0 0)", "POINT (5 5)", "MULTIPOINT ((1 1), (9 9))",
    "LINESTRING (0 0, 2 2)", "LINESTRING (1 0, 1 3)", "LINESTRING (0 0, 1 1)", "LINESTRING (2 0, 2 2)",
    "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))", "POLYGON ((1 1, 3 1, 3 3, 1 3, 1 1))",
    "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0))", "POLYGON ((2 0, 4 0, 4 2, 2 2, 2 0))",
    "POLYGON ((0.5 0.5, 1 0.5, 1 1, 0.5 1, 0.5 0.5))", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    "GEOMETRYCOLLECTION (POINT (3 3), LINESTRING (0 0, 0 1))", "POINT EMPTY", "POLYGON EMPTY",
]
SHAPELY = {"sfEquals": shapely.equals, "sfDisjoint": shapely.disjoint, "sfIntersects": shapely.intersects,
           "sfTouches": shapely.touches, "sfCrosses": shapely.crosses, "sfWithin": shapely.within,
           "sfContains": shapely.contains, "sfOverlaps": shapely.overlaps}
TABLES = {  # GeoSPARQL 1.0, tables 3 and 4
    "ehEquals": ["TFFFTFFFT"], "ehDisjoint": ["FF*FF****"], "ehMeet": ["FT*******", "F**T*****", "F***T****"],
    "ehOverlap": ["T*T***T**"], "ehCovers": ["T*TFT*FF*"], "ehCoveredBy": ["TFF*TFT**"],
    "ehInside": ["TFF*FFT**"], "ehContains": ["T*TFF*FF*"],
    "rcc8eq": ["TFFFTFFFT"], "rcc8dc": ["FFTFFTTTT"], "rcc8ec": ["FFTFTTTTT"], "rcc8po": ["TTTTTTTTT"],
    "rcc8tppi": ["TTTFTTFFT"], "rcc8tpp": ["TFFTTFTTT"], "rcc8ntpp": ["TFFTFFTTT"], "rcc8ntppi": ["TTTFFTFFT"],
}


@pytest.fixture(scope="module")
def pairs():
    a, b = zip(*itertools.product(SAMPLE, SAMPLE))
    return list(a), list(b)


@pytest.mark.parametrize("name", sorted(SHAPELY))
def test_sf_relations_match_shapely(pairs, name):
    a, b = pairs
    got = bools(f(name)(wkt(*a), wkt(*b)))
    want = SHAPELY[name](shapely.from_wkt(a), shapely.from_wkt(b)).tolist()
    bad = [(x, y, g, w) for x, y, g, w in zip(a, b, got, want) if g != w]
    assert not bad, bad[:5]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_eh_rcc8_relations_match_the_tables(pairs, name):
    a, b = pairs
    got = bools(f(name)(wkt(*a), wkt(*b)))
    ga, gb = shapely.from_wkt(a), shapely.from_wkt(b)
    want = np.zeros(len(a), bool)
    for p in TABLES[name]:
        want |= np.array([shapely.relate_pattern(x, y, p) for x, y in zip(ga, gb)])
    assert got == want.tolist()


def test_region_relations():
    outer, inner, touching = "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0))", "POLYGON ((1 1, 2 1, 2 2, 1 2, 1 1))", \
        "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))"
    assert bools(f("rcc8ntpp")(wkt(inner), wkt(outer))) == [True]
    assert bools(f("rcc8tpp")(wkt(touching), wkt(outer))) == [True]
    assert bools(f("ehCoveredBy")(wkt(touching), wkt(outer))) == [True]
    assert bools(f("ehInside")(wkt(inner), wkt(outer))) == [True]
    assert bools(f("rcc8ec")(wkt(outer), wkt("POLYGON ((4 0, 5 0, 5 1, 4 1, 4 0))"))) == [True]
    assert bools(f("rcc8po")(wkt(outer), wkt("POLYGON ((3 3, 5 3, 5 5, 3 5, 3 3))"))) == [True]


def test_relate_patterns_per_row():
    a = wkt("POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))", "POINT (1 1)", "POINT (1 1)", "POINT (1 1)", "POINT (1 1)")
    b = wkt("POINT (1 1)", "POINT (1 1)", "POINT (2 2)", "POINT (1 1)", "POINT (1 1)")
    pattern = Terms.literals(["T*****FF*", "0FFFFFFF2", "ff*ff****", "T*F", "T*****FFX"])
    assert bools(f("relate")(a, b, pattern)) == [True, True, True, None, None]


def test_mixed_crs_compared_in_crs84():
    lonlat = wkt("POINT (23.7 37.9)", "POINT (23.7 37.9)")
    latlon = wkt(f"<{EPSG}4326> POINT (37.9 23.7)", f"<{EPSG}4326> POINT (23.7 37.9)")
    assert bools(f("sfEquals")(lonlat, latlon)) == [True, False]
    utm = shapely.to_wkt(shapely.Point(pyproj.Transformer.from_crs(4326, 32634, always_xy=True).transform(23.7, 37.9)),
                         rounding_precision=12)
    poly = wkt("POLYGON ((23 37, 24 37, 24 38, 23 38, 23 37))")
    assert bools(f("sfContains")(poly, wkt(f"<{EPSG}32634> {utm}"))) == [True]


def test_empty_literals_are_empty_geometries():
    gml = Terms.literals(["", '<LineString xmlns="https://www.opengis.net/gml"><posList></posList></LineString>'],
                         GML_LITERAL)
    assert bools(f("sfEquals")(wkt("", "POINT EMPTY"), wkt("LINESTRING EMPTY", ""))) == [True, True]
    assert bools(f("sfEquals")(gml, wkt("", ""))) == [True, True]
    assert bools(f("isEmpty")(wkt("", " \n "))) == [True, True]
    assert bools(f("sfIntersects")(wkt(""), wkt("POINT (1 2)"))) == [False]


def test_invalid_arguments_are_errors():
    a = Terms(*(pa.concat_arrays([getattr(wkt("POINT (1 oops)", "POINT (1 2)", "POINT (1 2)"), c),
                                  getattr(Terms.iris(["http://x/y"]), c)])
                for c in ("kind", "value", "datatype", "lang")))
    b = Terms(*(pa.concat_arrays([getattr(wkt("POINT (1 2)", "<http://nope/crs> POINT (1 2)"), c),
                                  getattr(Terms.literals(["POINT (1 2)"]), c),
                                  getattr(wkt("POINT (1 2)"), c)])
                for c in ("kind", "value", "datatype", "lang")))
    assert bools(f("sfEquals")(a, b)) == [None, None, None, None]
    assert values(f("distance")(wkt("POINT (0 0)"), wkt("POINT (1 1)"), Terms.iris([UOM + "furlong"]))) == [None]
    assert values(f("buffer")(wkt("POINT (0 0)"), Terms.literals(["ten"], XSD + "double"),
                              unit("metre", 1))) == [None]
    assert values(f("buffer")(wkt("POINT (0 0)"), Terms.literals(["10"]), unit("metre", 1))) == [None]


# -- measures ----------------------------------------------------------------------------------
def test_point_distance_is_geodesic():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-179, 179, (2, 20)), rng.uniform(-80, 80, (2, 20))
    a = wkt(*[f"POINT ({x} {y})" for x, y in zip(lon[0], lat[0])])
    b = wkt(*[f"<{EPSG}4326> POINT ({y} {x})" for x, y in zip(lon[1], lat[1])])  # lat/lon order
    got = floats(f("distance")(a, b, unit("metre", 20)))
    want = WGS84.inv(lon[0], lat[0], lon[1], lat[1])[2]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    np.testing.assert_allclose(floats(f("metricDistance")(a, b)), want, rtol=1e-9)
    np.testing.assert_allclose(floats(f("distance")(a, b, unit("kilometre", 20))), want / 1000, rtol=1e-9)


def test_polygon_distance_and_units():
    a = wkt("POLYGON ((-83.2 34.3, -83.0 34.3, -83.0 34.5, -83.2 34.5, -83.2 34.3))")
    b = wkt("POLYGON ((-83.5 34.2, -83.3 34.2, -83.3 34.4, -83.5 34.4, -83.5 34.2))")
    metres = floats(f("distance")(a, b, unit("metre", 1)))[0]
    # nearest points lie on the parallels 34.3..34.4; the geodesic one at 34.4 is the shortest
    assert metres == pytest.approx(WGS84.inv(-83.2, 34.4, -83.3, 34.4)[2], rel=1e-4)
    assert floats(f("distance")(a, b, unit("degree", 1)))[0] == pytest.approx(0.1)
    assert floats(f("distance")(a, b, unit("radian", 1)))[0] == pytest.approx(np.radians(0.1))
    assert values(f("distance")(a, a, unit("metre", 1))) == ["0.0"]


def exact_wkt(geoms, crs=CRS84_IRI) -> Terms:
    """geo:wktLiteral terms that read back to exactly these coordinates."""
    from eolinked.literals import wkt_literals
    return Terms.literals(wkt_literals(np.asarray(geoms, object), crs), WKT_LITERAL)


def _near_pairs(rng, lat, n=40):
    """Random points, lines and polygons (tens of metres) a few metres to ~200 m apart near ``lat``."""
    def one(x0, y0):
        kind, pts = rng.integers(0, 3), np.column_stack([x0 + rng.normal(0, 3e-4, 5), y0 + rng.normal(0, 2e-4, 5)])
        if kind == 0:
            return shapely.Point(pts[0])
        return shapely.LineString(pts) if kind == 1 else shapely.convex_hull(shapely.MultiPoint(pts))
    a, b = [], []
    for _ in range(n):
        x0, y0 = rng.uniform(-170, 170), lat + rng.uniform(-0.3, 0.3)
        a.append(one(x0, y0))
        b.append(one(x0 + rng.normal(0, 1e-3), y0 + rng.normal(0, 6e-4)))
    return np.array(a, object), np.array(b, object)


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0, -45.0])
def test_distance_is_the_exact_geodesic_minimum(lat):
    """geof:distance against an independent brute force (0.5 m densification, all point pairs)."""
    from eolinked.geosparql.geodesy import geodesic_distance

    from .geodesic_reference import brute_distances, tolerance

    a, b = _near_pairs(np.random.default_rng(int(lat) + 100), lat)
    want = brute_distances(a, b)
    got = floats(f("distance")(exact_wkt(a), exact_wkt(b), unit("metre", len(a))))
    assert (want > 0).sum() > 30 and (want == 0).any()
    assert (got <= want + 1e-6).all()                      # never more than an actual pair of points
    assert (want - got <= tolerance(got)).all()            # and as small as the brute force allows
    assert np.array_equal(got, geodesic_distance(a, b, CRS84_IRI))  # the shared core, bit for bit
    np.testing.assert_array_equal(floats(f("metricDistance")(exact_wkt(a), exact_wkt(b))), got)
    # EPSG:4326 literals (latitude first) give the same metres
    np.testing.assert_array_equal(floats(f("distance")(exact_wkt(a, EPSG + "4326"), exact_wkt(b),
                                                       unit("metre", len(a)))), got)


def test_distance_to_a_long_edge_is_not_a_chord_bound():
    """A point north of the middle of a 40 km edge along a parallel: the edge bulges towards the
    equator (it is straight in lon/lat), so the nearest point is found on the ellipsoid, not on a
    chord of a projection; lon/lat edge against a point 1 km away, in both argument orders."""
    from .geodesic_reference import brute_distance, tolerance

    line, point = shapely.LineString([(10.0, 60.0), (10.72, 60.0)]), shapely.Point(10.36, 60.009)
    want = brute_distance(line, point)
    ab = floats(f("distance")(wkt(line.wkt), wkt(point.wkt), unit("metre", 1)))[0]
    ba = floats(f("distance")(wkt(point.wkt), wkt(line.wkt), unit("metre", 1)))[0]
    assert ab == ba and want - tolerance(ab) <= ab <= want + 1e-6
    meridian = WGS84.inv(10.36, 60.0, 10.36, 60.009)[2]  # the nearest point is on the edge below it
    assert ab == pytest.approx(meridian, abs=1e-6)


def test_distance_rows_do_not_depend_on_their_batch():
    rng = np.random.default_rng(11)
    a, b = _near_pairs(rng, 52.0, 30)
    together = floats(f("distance")(exact_wkt(a), exact_wkt(b), unit("metre", len(a))))
    alone = [floats(f("distance")(exact_wkt([x]), exact_wkt([y]), unit("metre", 1)))[0] for x, y in zip(a[:8], b[:8])]
    assert together[:8].tolist() == alone


def test_projected_distance_is_cartesian():
    a, b = wkt(f"<{EPSG}25832> POINT (500000 5500000)"), wkt(f"<{EPSG}25832> POINT (503000 5504000)")
    assert floats(f("distance")(a, b, unit("metre", 1))).tolist() == [5000.0]
    assert floats(f("distance")(a, b, unit("kilometre", 1))).tolist() == [5.0]
    assert floats(f("distance")(a, b, unit("degree", 1)))[0] == pytest.approx(np.degrees(5000 / 6371008.8))


def test_area_length_against_pyproj():
    shapes = ["POLYGON ((-83.6 34.1, -83.2 34.1, -83.2 34.5, -83.6 34.5, -83.6 34.1))",
              "POLYGON ((10 50, 11 50, 11 51, 10 51, 10 50), (10.2 50.2, 10.4 50.2, 10.4 50.4, 10.2 50.2))",
              "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 -60, 7 -60, 7 -58, 5 -60)))",
              "LINESTRING (0 0, 3 4, 10 10)", "POINT (1 2)"]
    g = wkt(*shapes)
    oriented = shapely.orient_polygons(shapely.from_wkt(shapes[:3]))  # pyproj adds signed ring areas
    want_area = [WGS84.geometry_area_perimeter(s)[0] for s in oriented] + [0.0, 0.0]
    # great-circle edges on the authalic sphere vs ellipsoidal geodesics: ~1e-5 for 2-degree edges
    np.testing.assert_allclose(floats(f("area")(g)), want_area, rtol=3e-5, atol=1e-6)
    np.testing.assert_allclose(floats(f("metricArea")(g)), want_area, rtol=3e-5, atol=1e-6)
    np.testing.assert_allclose(floats(f("area")(g, unit("kilometre", 5))), np.array(want_area) / 1e6, rtol=3e-5)
    assert floats(f("area")(wkt(shapes[0]), Terms.iris([UOM + "hectare"])))[0] == \
        pytest.approx(want_area[0] / 1e4, rel=1e-6)
    want_len = [sum(WGS84.geometry_length(r) for r in shapely.get_rings(s)) or WGS84.geometry_length(s)
                for s in shapely.from_wkt(shapes)]  # holes count, as in GEOS
    np.testing.assert_allclose(floats(f("length")(g)), want_len, rtol=1e-9)
    np.testing.assert_allclose(floats(f("metricLength")(g)), want_len, rtol=1e-9)
    perim = floats(f("perimeter")(g))
    np.testing.assert_allclose(perim[:3], want_len[:3], rtol=1e-9)
    assert perim[3:].tolist() == [0.0, 0.0]
    projected = wkt(f"<{EPSG}25832> POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))")
    assert floats(f("area")(projected)).tolist() == [100.0]
    assert floats(f("length")(projected, unit("kilometre", 1))).tolist() == [0.04]


def test_buffer_units_and_crs():
    point = wkt("POINT (13.4 52.5)")
    grown = geoms_of(f("metricBuffer")(point, num(1000)))[0][0]
    area = abs(WGS84.geometry_area_perimeter(grown)[0])
    assert area == pytest.approx(np.pi * 1000 ** 2, rel=2e-2)  # 32-gon of radius 1 km
    assert values(f("buffer")(point, num(1000), unit("metre", 1))) == values(f("metricBuffer")(point, num(1000)))
    deg = geoms_of(f("buffer")(point, num(0.5), unit("degree", 1)))[0][0]
    assert shapely.equals_exact(deg, shapely.buffer(shapely.Point(13.4, 52.5), 0.5), 1e-12)
    latlon = f("buffer")(wkt(f"<{EPSG}4326> POINT (52.5 13.4)"), num(1, dt="integer"), unit("kilometre", 1))
    text = values(latlon)[0]
    assert text.startswith(f"<{EPSG}4326> POLYGON ((52.")  # CRS of the input, lat/lon order
    g, crs = geoms_of(latlon)
    assert crs == [EPSG + "4326"]
    assert abs(WGS84.geometry_area_perimeter(g[0])[0]) == pytest.approx(area, rel=1e-6)
    utm = geoms_of(f("buffer")(wkt(f"<{EPSG}25832> POINT (500000 5500000)"), num(2), unit("kilometre", 1)))
    assert shapely.area(utm[0][0]) == pytest.approx(np.pi * 2000 ** 2, rel=2e-2) and utm[1] == [EPSG + "25832"]
    assert values(f("buffer")(wkt(f"<{EPSG}25832> POINT (0 0)"), num(1), unit("degree", 1))) == [None]


# -- constructive, accessors, serialisations ----------------------------------------------------------
def test_binary_constructive_in_first_crs():
    a = wkt(f"<{EPSG}4326> POLYGON ((0 0, 0 2, 2 2, 2 0, 0 0))")  # lat/lon order
    b = wkt("POLYGON ((1 1, 3 1, 3 3, 1 3, 1 1))")                 # CRS84
    out = values(f("intersection")(a, b))[0]
    assert out.startswith(f"<{EPSG}4326> POLYGON")
    g, _ = geoms_of(f("intersection")(a, b))
    assert shapely.equals(g[0], shapely.box(1, 1, 2, 2))
    for name, want in [("union", shapely.box(0, 0, 3, 3).difference(shapely.box(2, 0, 3, 1)).difference(
            shapely.box(0, 2, 1, 3))), ("difference", shapely.box(0, 0, 2, 2).difference(shapely.box(1, 1, 2, 2)))]:
        assert shapely.equals(geoms_of(f(name)(a, b))[0][0], want), name
    sym = geoms_of(f("symDifference")(a, b))[0][0]
    assert sym.area == pytest.approx(6.0)


def test_unary_constructive():
    g = wkt("MULTIPOINT ((0 0), (4 0), (4 4), (0 4), (2 1))")
    assert values(f("convexHull")(g)) == ["POLYGON ((0 0, 0 4, 4 4, 4 0, 0 0))"]
    assert values(f("envelope")(g)) == ["POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0))"]
    assert values(f("centroid")(g)) == ["POINT (2 1.8)"]
    circle = geoms_of(f("boundingCircle")(g))[0][0]
    assert circle.centroid.distance(shapely.Point(2, 2)) < 1e-6
    assert shapely.covers(geoms_of(f("concaveHull")(g))[0][0], shapely.Point(2, 1))
    assert values(f("concaveHull")(g, num(1.5))) == [None]
    assert values(f("boundary")(wkt("POLYGON ((0 0, 1 0, 1 1, 0 0))"))) == ["LINESTRING (0 0, 1 0, 1 1, 0 0)"]
    coll = wkt("MULTIPOINT ((1 2), (3 4))", "POINT (5 6)", "MULTIPOINT ((1 2), (3 4))")
    assert values(f("geometryN")(coll, num(2, 1, 3, dt="integer"))) == ["POINT (3 4)", "POINT (5 6)", None]


def test_transform():
    t = f("transform")(wkt("POINT (23.7 37.9)", "POINT (1 2)"),
                       Terms.iris([EPSG + "4326", "http://www.opengis.net/def/crs/EPSG/0/999999"]))
    assert values(t) == [f"<{EPSG}4326> POINT (37.9 23.7)", None]
    utm = f("transform")(wkt("POINT (9 49.6)"), Terms.literals([EPSG + "32632"], XSD + "anyURI"))
    g, crs = geoms_of(utm)
    assert crs == [EPSG + "32632"] and g[0].x == pytest.approx(500000, abs=1e-6)


def test_accessors():
    g = wkt(f"<{EPSG}4326> POINT Z (2 1 3)", "LINESTRING M (0 0 1, 1 1 2)", "POLYGON ((0 0, 1 0, 1 1, 0 0))",
            "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))", "")
    assert values(f("getSRID")(g)) == [EPSG + "4326"] + [CRS84_IRI] * 4
    assert f("getSRID")(g).datatype.to_pylist()[0] == XSD + "anyURI"
    assert values(f("geometryType")(g)) == [SF + "Point", SF + "LineString", SF + "Polygon",
                                            SF + "GeometryCollection", SF + "GeometryCollection"]
    assert values(f("dimension")(g)) == ["0", "1", "2", "1", None]
    assert values(f("coordinateDimension")(g)) == ["3", "3", "2", "2", "2"]
    assert values(f("spatialDimension")(g)) == ["3", "2", "2", "2", "2"]
    assert bools(f("is3D")(g)) == [True, False, False, False, False]
    assert bools(f("isMeasured")(g)) == [False, True, False, False, False]
    assert bools(f("isEmpty")(g)) == [False, False, False, False, True]
    assert bools(f("isSimple")(wkt("LINESTRING (0 0, 2 2, 0 2, 2 0)", "POINT (1 1)"))) == [False, True]
    assert values(f("numGeometries")(g)) == ["1", "1", "1", "2", "0"]
    assert values(f("minX")(g))[:3] == ["1.0", "0.0", "0.0"]
    assert values(f("maxY")(g))[:3] == ["2.0", "1.0", "1.0"]
    assert values(f("minZ")(g)) == ["3.0", None, None, None, None]
    assert values(f("maxZ")(wkt("LINESTRING Z (0 0 -1, 1 1 7)"))) == ["7.0"]


def test_serialisations():
    g = wkt(f"<{EPSG}4326> POINT (37.9 23.7)", "")
    assert values(f("asWKT")(g)) == [f"<{EPSG}4326> POINT (37.9 23.7)", "GEOMETRYCOLLECTION EMPTY"]
    gml = f("asGML")(g)
    assert gml.datatype.to_pylist()[0] == GML_LITERAL and "<gml:pos>37.9 23.7</gml:pos>" in values(gml)[0]
    assert bools(f("sfEquals")(gml, g)) == [True, True]
    js = f("asGeoJSON")(g)
    assert js.datatype.to_pylist()[0] == GEOJSON_LITERAL
    assert values(js)[0] == '{"type":"Point","coordinates":[23.7,37.9]}'
    assert bools(f("sfEquals")(js, g))[0] is True


def test_kml_literals():
    kml = Terms.literals(['<Point xmlns="http://www.opengis.net/kml/2.2"><coordinates>23.7,37.9</coordinates></Point>',
                          ("<Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 1,0 1,1 0,0</coordinates>"
                           "</LinearRing></outerBoundaryIs></Polygon>"), "<Point><coordinates>x</coordinates></Point>"],
                         GEO + "kmlLiteral")
    assert values(f("asWKT")(kml)) == ["POINT (23.7 37.9)", "POLYGON ((0 0, 1 0, 1 1, 0 0))", None]


def test_results_keep_input_length_and_nulls():
    g = Terms.literals([None, "POINT (1 2)", None], WKT_LITERAL)
    for name in ("convexHull", "getSRID", "isEmpty", "area", "asGML"):
        out = f(name)(g)
        assert len(out) == 3 and out.kind.to_pylist()[0] is None and out.kind.to_pylist()[1] is not None


# -- aggregates and geometry properties ---------------------------------------------------------------
def nt_lists(groups):
    nt = [[None if v is None else to_nt(Terms.literals([v], WKT_LITERAL)).to_pylist()[0] for v in grp]
          for grp in groups]
    return pa.array(nt, pa.list_(pa.string()))


def test_aggregates():
    groups = nt_lists([["POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))", "POLYGON ((1 1, 3 1, 3 3, 1 3, 1 1))"],
                       ["POINT (0 0)", None, "POINT (4 2)"],
                       [], ["POINT (1 1)", "POINT (oops)"],
                       [f"<{EPSG}4326> POINT (0 0)", "POINT (2 2)"]])
    union = geoms_of(GEO_AGGREGATES[GEOF + "aggUnion"](groups))
    assert shapely.area(union[0][0]) == pytest.approx(7.0)
    assert shapely.equals(union[0][1], shapely.MultiPoint([(0, 0), (4, 2)]))  # unbound members are skipped
    assert union[0][2] is None and union[0][3] is None  # no geometry; an unreadable member
    assert shapely.equals(union[0][4], shapely.MultiPoint([(0, 0), (2, 2)])) and union[1][4] == EPSG + "4326"
    hull = values(GEO_AGGREGATES[GEOF + "aggConvexHull"](groups))
    assert hull[1] == "LINESTRING (0 0, 4 2)" and hull[2] is None and hull[3] is None
    assert values(GEO_AGGREGATES[GEOF + "aggCentroid"](groups))[1] == "POINT (2 1)"
    assert values(GEO_AGGREGATES[GEOF + "aggBoundingBox"](groups))[0] == "POLYGON ((0 0, 3 0, 3 3, 0 3, 0 0))"
    assert values(GEO_AGGREGATES[GEOF + "aggBoundingBox"](groups))[4] == f"<{EPSG}4326> POLYGON ((0 0, 0 2, 2 2, 2 0, 0 0))"
    circle = geoms_of(GEO_AGGREGATES[GEOF + "aggBoundingCircle"](groups))[0][1]
    assert circle.centroid.distance(shapely.Point(2, 1)) < 1e-6
    concave = geoms_of(GEO_AGGREGATES[GEOF + "aggConcaveHull"](groups))[0][0]
    assert shapely.covers(concave, shapely.MultiPoint([(0, 0), (3, 3), (2, 0)])) and 0 < concave.area <= 9


def test_geometry_properties():
    props = geometry_properties(pa.array(["POINT Z (1 2 3)", "", "nope", None]), WKT_LITERAL)
    assert props[GEO + "dimension"].to_pylist() == [f'"0"^^<{XSD}integer>', None, None, None]
    assert props[GEO + "coordinateDimension"].to_pylist()[0] == f'"3"^^<{XSD}integer>'
    assert props[GEO + "spatialDimension"].to_pylist()[0] == f'"3"^^<{XSD}integer>'
    assert props[GEO + "isEmpty"].to_pylist()[:3] == [f'"false"^^<{XSD}boolean>', f'"true"^^<{XSD}boolean>', None]
    assert props[GEO + "isSimple"].to_pylist()[1] == f'"true"^^<{XSD}boolean>'
    polygon = ('<gml:Polygon xmlns:gml="http://www.opengis.net/gml/3.2"><gml:exterior><gml:LinearRing>'
               "<gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>")
    gml = geometry_properties(pa.array([polygon]), pa.array([GML_LITERAL]))
    assert gml[GEO + "dimension"].to_pylist() == [f'"2"^^<{XSD}integer>']


# -- GeoSPARQL Compliance Benchmark (R12-R24) ------------------------------------------------------------
# Queries whose expected answers this library reproduces.  Left out, with the reason:
#  r19-1-*  distance: the expected metres (9387.01, 10194.1) come from neither geodesic nor
#           haversine distances between nearest points (9195 m, 9206 m here).
#  r19-2-*  buffer(A, 10, uom:metre): the expected answer is a 10 *degree* buffer.
#  r19-4..7 intersection/union/difference/symDifference: same polygons, but JTS's ring start vertex.
#  r19-8-*  envelope: expected forms are not valid WKT (BOX(...), a ring with a missing comma).
#  r19-9-2  boundary of a GML literal: the accepted answers are GML in the dataset's non-standard
#           namespace or a LINEARRING; LINESTRING WKT (accepted for r19-9-1) is not among them.
EXPECTED_TO_PASS = re.compile(r"query-r(12|13-\d|16-\d|19-3-\d|19-9-1|20-\d|21-\d|2[234]-\d-\d)\.rq$")
MY = "http://example.org/ApplicationSchema#"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def gsb_geometries():
    rdflib = pytest.importorskip("rdflib")
    graph = rdflib.Graph().parse(GSB / "dataset" / "dataset.rdf", format="xml")
    links = {}
    for prop in ("geo:hasDefaultGeometry", "my:hasExactGeometry", "my:hasPointGeometry"):
        iri = rdflib.URIRef((GEO if prop.startswith("geo:") else MY) + prop.split(":")[1])
        for s, o in graph.subject_objects(iri):
            links[(str(s), prop)] = str(o)
    serial = {}
    for prop in ("asWKT", "asGML"):
        for s, o in graph.subject_objects(rdflib.URIRef(GEO + prop)):
            serial[(str(s), prop)] = (str(o), str(o.datatype))
    return links, serial


def _expected(query: Path):
    answers = GSB / "answers"
    found = []
    for path in [answers / f"{query.stem}.srx", *answers.glob(f"{query.stem}-alternative-*.srx")]:
        lit = next(ET.parse(path).iter(SRX + "literal"))
        found.append((lit.get("datatype") or XSD + "string", _normal(lit.get("datatype"), (lit.text or "").strip())))
    return found


def _normal(datatype, text):
    if datatype == WKT_LITERAL:
        return re.sub(r"\s", "", text).lower()
    if datatype == XSD + "boolean":
        return {"1": "true", "0": "false"}.get(text, text)
    return text


def _gsb_cases():
    if not GSB.is_dir():
        return []
    return sorted(p for p in (GSB / "queries").glob("query-r*.rq") if EXPECTED_TO_PASS.search(p.name))


@pytest.mark.skipif(not GSB.is_dir(), reason="../shared/conformance/geosparql is not there (CI has it)")
@pytest.mark.parametrize("query", _gsb_cases(), ids=lambda p: p.stem)
def test_gsb_function_queries(query, gsb_geometries):
    links, serial = gsb_geometries
    text = query.read_text()
    var_geom = {}
    for feature, prop, var in re.findall(r"my:(\w+) ((?:geo|my):\w+) \?(\w+)", text):
        var_geom[var] = links[(MY + feature, prop)]
    args = {}
    for gvar, prop, var, prop2, var2 in re.findall(
            r"\?(\w+) geo:(asWKT|asGML) \?(\w+)(?: ;\s*geo:(asWKT|asGML) \?(\w+))?", text):
        for p, v in ((prop, var), (prop2, var2)):
            if p:
                lex, dt = serial[(var_geom[gvar], p)]
                args[v] = Terms.literals([lex], dt)
    name, arglist = re.search(r"BIND \(geof:(\w+)\(([^)]*)\)", text).groups()
    terms = []
    for arg in (a.strip() for a in arglist.split(",")):
        if arg.startswith("?"):
            terms.append(args[arg[1:]])
        else:
            terms.append(Terms.literals([re.match(r'"([^"]*)"', arg).group(1)]))
    out = f(name)(*terms)
    got = (out.datatype.to_pylist()[0], _normal(out.datatype.to_pylist()[0], out.value.to_pylist()[0]))
    expected = _expected(query)
    assert got in expected, (got, expected)

import numpy as np
import pyproj
import pytest
import shapely

from eolinked import crs as C
from eolinked.errors import EolinkedError

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
LCC = pyproj.CRS.from_proj4("+proj=lcc +lat_0=40 +lon_0=-100 +lat_1=49 +lat_2=77 +datum=WGS84")


@pytest.mark.parametrize("crs, iri", [
    ("EPSG:4326", EPSG + "4326"),
    (4326, EPSG + "4326"),
    (pyproj.CRS("EPSG:25832"), EPSG + "25832"),
    (pyproj.CRS("OGC:CRS84"), C.CRS84_IRI),
    ("+proj=longlat +datum=WGS84 +no_defs", C.CRS84_IRI),
    (pyproj.CRS("EPSG:4326").to_wkt("WKT1_ESRI"), C.CRS84_IRI),  # .prj WGS84: lon/lat axes
    (pyproj.CRS("EPSG:31287").to_wkt("WKT1_ESRI"), EPSG + "31287"),
    (pyproj.CRS("EPSG:3857").to_json(), EPSG + "3857"),
    ("OGC:CRS84h", "http://www.opengis.net/def/crs/OGC/0/CRS84h"),
    (EPSG + "2100", EPSG + "2100"),
    ("http://www.opengis.net/def/crs/OGC/0/CRS84", C.CRS84_IRI),
    (LCC, None),
])
def test_crs_to_iri(crs, iri):
    assert C.crs_to_iri(crs) == iri


@pytest.mark.parametrize("iri, auth", [
    (EPSG + "4326", ("EPSG", "4326")),
    (C.CRS84_IRI, ("OGC", "CRS84")),
    ("http://www.opengis.net/def/crs/OGC/0/CRS84", ("OGC", "CRS84")),
    ("http://www.opengis.net/def/crs/OGC/1.3/CRS84h", ("OGC", "CRS84h")),
    ("<http://www.opengis.net/def/crs/EPSG/0/31287>", ("EPSG", "31287")),
])
def test_iri_to_crs(iri, auth):
    assert C.iri_to_crs(iri).to_authority() == auth


def test_iri_to_crs_unknown():
    with pytest.raises(EolinkedError, match="example.org/nocrs") as err:
        C.iri_to_crs("http://example.org/nocrs")
    assert err.value.hint


@pytest.mark.parametrize("crs, north", [
    ("EPSG:4326", True), ("EPSG:31287", True), ("EPSG:3857", False), ("OGC:CRS84", False),
    ("EPSG:25832", False), (C.CRS84_IRI, False), ("EPSG:32661", True), ("EPSG:5041", False),
    (pyproj.CRS("EPSG:31287").to_wkt("WKT1_ESRI"), True),  # authority order, not the WKT's axes
])
def test_is_northing_first(crs, north):
    assert C.is_northing_first(crs) is north


def test_swap_xy_keeps_z_m_and_nulls():
    g = shapely.from_wkt(["POINT (1 2)", "LINESTRING Z (1 2 3, 4 5 6)", None, "POINT M (1 2 9)",
                          "POLYGON ZM ((0 0 1 2, 1 0 1 2, 1 1 1 2, 0 0 1 2))", "POINT EMPTY"])
    out = C.swap_xy(g)
    assert shapely.to_wkt(out).tolist() == [
        "POINT (2 1)", "LINESTRING Z (2 1 3, 5 4 6)", None, "POINT M (2 1 9)",
        "POLYGON ZM ((0 0 1 2, 0 1 1 2, 1 1 1 2, 0 0 1 2))", "POINT EMPTY"]
    assert shapely.equals_exact(C.swap_xy(out)[[0, 1, 3]], g[[0, 1, 3]], tolerance=0).all()


def test_reproject_matches_pyproj():
    lon, lat = np.array([23.7, 11.57]), np.array([37.9, 48.14])
    g = np.array([shapely.Point(23.7, 37.9), shapely.LineString([(23.7, 37.9, 5), (11.57, 48.14, 7)]), None])
    out = C.reproject(g, "EPSG:4326", "EPSG:3857")
    ex, ey = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    assert shapely.get_coordinates(out[0]).tolist() == [[ex[0], ey[0]]]
    assert np.array_equal(shapely.get_coordinates(out[1], include_z=True), np.column_stack([ex, ey, [5, 7]]))
    assert out[2] is None
    back = C.reproject(out, "EPSG:3857", C.CRS84_IRI)
    assert shapely.equals_exact(back[:2], g[:2], tolerance=1e-9).all()


def test_reproject_same_crs_is_identity():
    g = np.array([shapely.Point(0.1, 0.2)])
    assert shapely.equals_exact(C.reproject(g, "EPSG:4326", "OGC:CRS84"), g, tolerance=0).all()


def test_reproject_failure_raises():
    with pytest.raises(EolinkedError, match="cannot be reprojected"):
        C.reproject(np.array([shapely.Point(0, 95)]), "OGC:CRS84", "EPSG:3857")


def test_normalise_source_crs():
    crs, rep, note = C.normalise_source_crs(LCC)
    assert crs.to_authority() == ("OGC", "CRS84") and rep and "CRS84" in note
    assert C.normalise_source_crs(None)[1:] == (False, "no CRS, assuming CRS84")
    crs, rep, note = C.normalise_source_crs("EPSG:25832")
    assert crs.to_epsg() == 25832 and not rep and note is None
    g = C.reproject(np.array([shapely.Point(0, 0)]), LCC, C.normalise_source_crs(LCC)[0])
    assert shapely.get_coordinates(g).round(9).tolist() == [[-100, 40]]  # LCC origin


def test_bad_crs_input():
    with pytest.raises(EolinkedError):
        C.crs_to_iri("not a crs")
    with pytest.raises(EolinkedError):
        C.crs_to_iri(object())

"""Real data from ../shared/data: OSM (Liechtenstein, Andorra) buildings x landuse x roads, crop
parcels x CORINE-like polygons, populated places x NUTS regions, points near parcels. Every link
set equals a brute-force cross product without any index."""
import numpy as np
import pytest
import shapely

from interlink import Features, interlink, read_features

from .linkdata import (
    brute_force,
    features,
    osm_layer,
    read_links,
    window,
    write_geofile,
)


@pytest.fixture(scope="module")
def liechtenstein(shared_data):
    pbf = shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf"
    return {"building": osm_layer(pbf, "multipolygons", "building"),
            "landuse": osm_layer(pbf, "multipolygons", "landuse"),
            "highway": osm_layer(pbf, "lines", "highway", columns=("osm_id",))}


@pytest.fixture(scope="module")
def andorra(shared_data):
    pbf = shared_data / "osm" / "andorra.osm.pbf"
    return {"building": osm_layer(pbf, "multipolygons", "building"),
            "landuse": osm_layer(pbf, "multipolygons", "landuse"),
            "highway": osm_layer(pbf, "lines", "highway", columns=("osm_id",)),
            "named": osm_layer(pbf, "points", "name", columns=("osm_id",))}


def _links(tmp_path, source, target, **kw):
    out = tmp_path / "links.nt"
    interlink(source, target, str(out), processes=kw.pop("processes", 1), **kw)
    return read_links(out)


@pytest.mark.parametrize("index", ["grid", "strtree"])
def test_liechtenstein_buildings_x_landuse(tmp_path, liechtenstein, index):
    b, lu = liechtenstein["building"], liechtenstein["landuse"]
    want = brute_force(b, lu)
    assert len(want) > 1000 and {r for _, r, _ in want} >= {"sfWithin", "sfTouches", "sfOverlaps", "sfEquals"}
    assert _links(tmp_path, b, lu, index=index) == want


def test_liechtenstein_landuse_x_roads_two_processes(tmp_path, liechtenstein):
    lu, roads = liechtenstein["landuse"], liechtenstein["highway"]
    want = brute_force(lu, roads)
    assert {r for _, r, _ in want} >= {"sfCrosses", "sfContains", "sfTouches"}
    assert _links(tmp_path, lu, roads, processes=2, batch_size=500) == want


def test_liechtenstein_buildings_x_roads_window(tmp_path, liechtenstein):
    box = (9.49, 47.12, 9.54, 47.17)
    b, roads = window(liechtenstein["building"], box), window(liechtenstein["highway"], box)
    assert _links(tmp_path, b, roads) == brute_force(b, roads)


def test_andorra_all_layers(tmp_path, andorra):
    for s, t in (("building", "landuse"), ("building", "highway"), ("named", "building")):
        assert _links(tmp_path, andorra[s], andorra[t]) == brute_force(andorra[s], andorra[t]), (s, t)
    roads = window(andorra["highway"], (1.50, 42.50, 1.55, 42.55))
    assert _links(tmp_path, roads, roads) == brute_force(roads, roads)


def test_osm_file_read_directly_reports_missing_ids(shared_data):
    f = read_features(shared_data / "osm" / "andorra.osm.pbf", "https://www.openstreetmap.org/relation/{osm_id}",
                      layer="multipolygons")
    assert 0 < len(f) < 624 and any("attribute is empty" in n for n in f.notes)


def test_crop_parcels_x_corine_like_polygons(tmp_path, shared_data):
    path = shared_data / "crops" / "nl" / "brpgewaspercelen_definitief_2023.gpkg"
    parcels = read_features(path, "http://ex.org/parcel/{__row}")
    b = parcels.bounds
    rng = np.random.default_rng(11)
    k = rng.integers(0, len(b), 150)  # seeds inside parcel MBRs: cells of about parcel size
    seeds = shapely.multipoints(rng.uniform(b[k, :2], b[k, 2:]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(*b[:, :2].min(0),
                                                                                     *b[:, 2:].max(0))))
    clc = features(cells, "clc", crs=parcels.crs)
    clc_path = write_geofile(tmp_path / "clc.gpkg", clc, crs="EPSG:28992")
    got = _links(tmp_path, str(path), str(clc_path), source_id="http://ex.org/parcel/{__row}",
                 target_id="http://ex.org/clc/{id}")
    want = brute_force(parcels, read_features(clc_path, "http://ex.org/clc/{id}"))
    assert got == want and {r for _, r, _ in want} >= {"sfWithin", "sfOverlaps"}


def test_populated_places_x_nuts(tmp_path, shared_data):
    nuts = read_features(shared_data / "nuts" / "nuts_2.json", "http://ex.org/nuts/{NUTS_ID}")
    places = read_features(shared_data / "naturalearth" / "ne_10m_populated_places_simple.json",
                           "http://ex.org/place/{__row}")
    places = window(places, (-10, 35, 30, 60))
    assert _links(tmp_path, places, nuts, relations="sfWithin,sfIntersects,sfTouches") == \
        brute_force(places, nuts, ("sfWithin", "sfIntersects", "sfTouches"))


def test_survey_points_within_10_m_of_parcels(tmp_path, shared_data):
    path = shared_data / "crops" / "dk" / "Marker_2026.shp"
    parcels = read_features(path, "http://ex.org/dk/{Marknr}")
    rng = np.random.default_rng(2)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(parcels.geoms))
    pts = ring[rng.choice(len(ring), 300)] + rng.normal(0, 8, (300, 2))
    points = features(shapely.points(pts), "pt", crs=parcels.crs)
    a, b = np.repeat(points.geoms, len(parcels)), np.tile(parcels.geoms, len(points))
    near = shapely.distance(a, b) <= 10
    ids_p, ids_f = np.array(points.ids.to_pylist()), np.array(parcels.ids.to_pylist())
    want = {(p, "withinDistance", f) for p, f in zip(np.repeat(ids_p, len(parcels))[near],
                                                    np.tile(ids_f, len(points))[near])}
    assert len(want) > 100
    assert _links(tmp_path, points, str(path), target_id="http://ex.org/dk/{Marknr}", within_distance=10) == want
    # the same points in lon/lat: geodesic links agree with the UTM ones
    lonlat = Features.from_arrays(points.ids, shapely.transform(points.geoms, _to_lonlat(parcels.crs)), "EPSG:4326")
    geo = _links(tmp_path, lonlat, str(path), target_id="http://ex.org/dk/{Marknr}", within_distance=10,
                 crs="EPSG:4326")
    assert len(geo ^ want) <= 0.01 * len(want)  # UTM scale differs from geodesic by < 0.1 %


def _to_lonlat(crs):
    import pyproj
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))


def test_custom_crs_ice_chart_is_linked_in_its_own_crs(tmp_path, shared_data):
    path = shared_data / "seaice" / "cis_SGRDREA_20201102T.gpkg"
    ice = read_features(path, "http://ex.org/ice/{ID_NEW}")
    sample = Features(ice.ids.slice(0, 150), ice.geoms[:150], ice.crs)
    assert _links(tmp_path, sample, str(path), target_id="http://ex.org/ice/{ID_NEW}",
                  relations="sfEquals,sfTouches") == brute_force(sample, ice, ("sfEquals", "sfTouches"))

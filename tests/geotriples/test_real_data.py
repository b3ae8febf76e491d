"""Real datasets from ../shared/data through generate-mapping + transform, geometries checked back."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pyoxigraph
import pytest
import shapely

from eolinked import crs as crslib
from eolinked.literals import parse_wkt_literals
from geotriples import generate_mapping, transform

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GEO_AS_WKT = "http://www.opengis.net/ont/geosparql#asWKT"

DATASETS = [
    ("crops/at/INSPIRE_SCHLAEGE_2025-1_POLYGON.gpkg", None),
    ("crops/de_bb/antrag_land_gem.shp", None),
    ("crops/dk/Marker_2026.shp", None),
    ("crops/fi/LandUse.ExistingLandUse.GSAAAgriculturalParcel.gpkg", None),
    ("crops/nl/brpgewaspercelen_definitief_2023.gpkg", None),
    ("crops/ec_lv/LV_2021_EC21.shp", None),
    ("crops/ec_ro/RO_ny_EC21.shp", None),
    ("crops/ec_si/SI_2021_EC21.shp", None),
    ("seaice/cis_SGRDREA_20201102T.gpkg", None),
    ("corine/clc2018_mt.gpkg", "clc18_mt"),
    ("corine/clc2018_mt.gpkg", "cha18_mt"),
    ("nuts/nuts_0.json", None),
    ("nuts/nuts_2.json", None),
    ("naturalearth/ne_10m_admin_0_countries_deu.shp", None),
    ("naturalearth/ne_10m_populated_places_simple.json", None),
]


def _source_geometries(path: Path, layer):
    meta, table = pyogrio.read_arrow(path, layer=layer)
    geoms = shapely.from_wkb(np.asarray(table.column(meta["geometry_name"] or "wkb_geometry").to_numpy(
        zero_copy_only=False)))
    crs = crslib.iri_to_crs(crslib.CRS84_IRI) if meta["crs"] is None else __import__("pyproj").CRS(meta["crs"])
    return geoms, crs


def _key(geoms, grid=None):
    g = shapely.normalize(geoms if grid is None else shapely.set_precision(geoms, grid))
    return sorted(shapely.to_wkb(g, hex=True))


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not there (CI has it)")
@pytest.mark.parametrize("rel,layer", DATASETS, ids=[f"{r}:{l}" if l else r for r, l in DATASETS])
def test_generate_and_transform_round_trip(rel, layer, tmp_path):
    src = DATA / rel
    mapping = tmp_path / "mapping.ttl"
    generate_mapping(str(src), str(mapping), layer=layer)
    out = tmp_path / "out.nt"
    summary = transform(str(mapping), str(out))
    literals = [q.object.value for q in pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.N_TRIPLES)
                if q.predicate.value == GEO_AS_WKT]
    expected, source_crs = _source_geometries(src, layer)
    assert len(literals) == len(expected) == summary.records // 2
    geoms, iris = parse_wkt_literals(literals)
    iri = crslib.crs_to_iri(source_crs)
    invalid = ~shapely.is_valid(expected)
    expected[invalid] = shapely.make_valid(expected[invalid])  # the default --invalid repair
    if iri is None:  # a custom CRS (the sea-ice chart): reprojected to CRS84, with a note
        assert set(iris) == {crslib.CRS84_IRI}
        assert summary.notes
        expected = crslib.reproject(expected, source_crs, crslib.iri_to_crs(crslib.CRS84_IRI))
        assert _key(geoms, 1e-9) == _key(expected, 1e-9)
    else:
        assert set(iris) == {iri}
        assert _key(geoms) == _key(expected)

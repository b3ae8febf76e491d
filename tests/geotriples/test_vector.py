"""geotriples.sources.vector: real datasets against pyogrio's whole-file read, batching, GeoParquet, errors."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
import pytest
import shapely

from eolinked.errors import EolinkedError
from eolinked.vectorio import list_layers, read_vector, vector_info

DATASETS = [
    ("crops/at/INSPIRE_SCHLAEGE_2025-1_POLYGON.gpkg", None),
    ("crops/de_bb/antrag_land_gem.shp", None),
    ("crops/dk/Marker_2026.shp", None),
    ("crops/ec_lv/LV_2021_EC21.shp", None),
    ("crops/ec_ro/RO_ny_EC21.shp", None),
    ("crops/ec_si/SI_2021_EC21.shp", None),
    ("crops/fi/LandUse.ExistingLandUse.GSAAAgriculturalParcel.gpkg", None),
    ("crops/nl/brpgewaspercelen_definitief_2023.gpkg", None),
    ("corine/clc2018_mt.gpkg", "clc18_mt"),
    ("corine/clc2018_mt.gpkg", "cha18_mt"),
    ("naturalearth/ne_10m_admin_0_countries_deu.shp", None),
    ("naturalearth/ne_10m_populated_places_simple.json", None),
    ("nuts/nuts_0.json", None),
    ("nuts/nuts_3.json", None),
    ("seaice/cis_SGRDREA_20201102T.gpkg", None),
    ("osm/andorra.osm.pbf", "points"),
    ("osm/liechtenstein-2013-08-03.osm.pbf", "points"),
]


def _whole(path, layer=None, **kw):
    return pa.concat_tables(read_vector(path, layer, **kw))


def _same(a: pa.Table, b: pa.Table) -> bool:
    """Equal column names and values (field metadata ignored)."""
    return a.column_names == b.column_names and all(
        a.column(n).combine_chunks().equals(b.column(n).combine_chunks()) for n in a.column_names)


@pytest.mark.parametrize("rel,layer", DATASETS, ids=[f"{r}:{lyr or ''}" for r, lyr in DATASETS])
def test_real_dataset_matches_pyogrio(shared_data, rel, layer):
    path = shared_data / rel
    ref_info = pyogrio.read_info(path, layer=layer or 0, force_feature_count=True)
    meta, ref = pyogrio.read_arrow(path, layer=layer or 0)
    info = vector_info(path, layer)
    assert info.layer == (layer or list_layers(path)[0])
    assert info.feature_count == ref_info["features"] == ref.num_rows
    assert list(info.fields) == list(ref_info["fields"])
    assert info.geometry_type == ref_info["geometry_type"]
    assert info.crs is not None and info.crs.equals(pyproj.CRS(ref_info["crs"]))

    table = _whole(path, layer)
    assert table.column_names == list(info.fields) + ["geometry"]
    assert table.schema.field("geometry").type == pa.binary()
    ref_geom = ref.column(meta["geometry_name"] or "wkb_geometry").cast(pa.binary())
    assert table.column("geometry").combine_chunks().equals(ref_geom.combine_chunks())
    for name in info.fields:
        assert table.column(name).combine_chunks().equals(ref.column(name).combine_chunks()), name
    wkb = np.asarray(table.column("geometry").to_numpy(zero_copy_only=False))
    assert not shapely.is_missing(shapely.from_wkb(wkb)).any()

    small = list(read_vector(path, layer, batch_size=7))
    assert all(t.num_rows <= 7 for t in small) and len(small) == -(-table.num_rows // 7)
    assert _same(pa.concat_tables(small), table)
    part = _whole(path, layer, skip_features=5, max_features=11, batch_size=4)
    assert _same(part, table.slice(5, 11))


def test_columns_order_and_corine_layers(shared_data):
    path = shared_data / "corine/clc2018_mt.gpkg"
    assert list_layers(path) == ["clc12_mt", "clc18_mt", "cha18_mt"]
    assert vector_info(path).layer == "clc12_mt"
    table = _whole(path, "clc18_mt", columns=["CODE_18", "ID"])
    assert table.column_names == ["CODE_18", "ID", "geometry"]
    assert table.num_rows == 148
    assert set(vector_info(path, "cha18_mt").fields) >= {"CODE_12", "CODE_18", "CHANGE"}


def test_shapefile_encoding(shared_data):
    path = shared_data / "crops/ec_ro/RO_ny_EC21.shp"  # has a .cpg saying UTF-8
    names = _whole(path, columns=["LC_CLASS_N"]).column("LC_CLASS_N").to_pylist()
    assert "Terenuri împădurite" in names
    latin = _whole(path, columns=["LC_CLASS_N"], encoding="latin1").column("LC_CLASS_N").to_pylist()
    assert "Terenuri împădurite" not in latin and len(latin) == len(names)


def test_seaice_custom_crs(shared_data):
    info = vector_info(shared_data / "seaice/cis_SGRDREA_20201102T.gpkg")
    assert info.crs.to_epsg() is None and "Lambert" in info.crs.to_wkt()


def _synthetic(n=40):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (n, 2))
    geoms = shapely.buffer(shapely.points(xy), 5, quad_segs=2)
    return pa.table({"id": pa.array(np.arange(n, dtype=np.int64)),
                     "name": pa.array([f"f{i}" for i in range(n)]),
                     "score": pa.array(rng.random(n)),
                     "wkb": pa.array(shapely.to_wkb(geoms, flavor="iso"), pa.binary())})


_ABSENT = object()


def write_geoparquet(path, table: pa.Table, geometry: str = "wkb", crs=_ABSENT, encoding: str = "WKB",
                     row_group_size: int | None = None):
    """Test helper: a GeoParquet 1.1 file (``crs`` left out means OGC:CRS84 by the spec)."""
    column = {"encoding": encoding, "geometry_types": ["Polygon"]}
    if crs is not _ABSENT:
        column["crs"] = None if crs is None else pyproj.CRS(crs).to_json_dict()
    geo = {"version": "1.1.0", "primary_column": geometry, "columns": {geometry: column}}
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def test_geoparquet_roundtrip(tmp_path):
    src = _synthetic()
    path = write_geoparquet(tmp_path / "parcels.parquet", src, crs="EPSG:32633", row_group_size=9)
    info = vector_info(path)
    assert info.crs.equals(pyproj.CRS("EPSG:32633"))
    assert info.fields == {"id": pa.int64(), "name": pa.string(), "score": pa.float64()}
    assert (info.feature_count, info.geometry_name, info.geometry_type) == (40, "wkb", "Polygon")
    assert list_layers(path) == ["parcels"]
    table = _whole(path)
    assert table.column_names == ["id", "name", "score", "geometry"]
    assert table.column("geometry").equals(src.column("wkb"))
    assert table.column("id").to_pylist() == list(range(40))
    batches = list(read_vector(path, batch_size=7))
    assert [t.num_rows for t in batches if t.num_rows] and all(t.num_rows <= 7 for t in batches)
    assert _same(pa.concat_tables(batches), table)
    for skip, most in [(0, 5), (13, 17), (18, None), (39, 10), (40, None)]:
        part = _whole(path, columns=["name"], skip_features=skip, max_features=most, batch_size=4)
        end = 40 if most is None else skip + most
        assert part.column("name").to_pylist() == [f"f{i}" for i in range(skip, min(end, 40))]
        assert part.column_names == ["name", "geometry"]


def test_geoparquet_crs_default_and_null(tmp_path):
    assert vector_info(write_geoparquet(tmp_path / "a.parquet", _synthetic())).crs.equals(
        pyproj.CRS("OGC:CRS84"))
    assert vector_info(write_geoparquet(tmp_path / "b.parquet", _synthetic(), crs=None)).crs is None


def test_geoparquet_errors(tmp_path):
    path = write_geoparquet(tmp_path / "p.parquet", _synthetic(), encoding="point")
    with pytest.raises(EolinkedError, match="encoding") as exc:
        vector_info(path)
    assert exc.value.hint and "WKB" in exc.value.hint
    plain = tmp_path / "plain.parquet"
    pq.write_table(_synthetic(), plain)
    with pytest.raises(EolinkedError, match="geo"):
        read_vector(plain)


def test_flatgeobuf_roundtrip(tmp_path):
    src = _synthetic()
    path = tmp_path / "parcels.fgb"
    # no null geometries: GDAL 3.12 aborts reading null FlatGeobuf geometries through Arrow
    pyogrio.write_arrow(src, path, geometry_name="wkb", geometry_type="Polygon", crs="EPSG:3035")
    info = vector_info(path)
    assert info.crs.to_epsg() == 3035 and info.feature_count == 40
    assert list(info.fields) == ["id", "name", "score"]
    table = _whole(path, batch_size=6)
    assert _same(table, pa.concat_tables(read_vector(path)))
    src = src.take(table.column("id"))  # the spatial index stores features in Hilbert order
    got = shapely.from_wkb(np.asarray(table.column("geometry").to_numpy(zero_copy_only=False)))
    want = shapely.from_wkb(np.asarray(src.column("wkb").to_numpy(zero_copy_only=False)))
    assert shapely.equals_exact(got, want, 0).all()
    assert table.column("name").to_pylist() == src.column("name").to_pylist()


def test_null_geometry_and_empty_reads(tmp_path):
    wkb = [shapely.to_wkb(shapely.Point(1, 2)), None, shapely.to_wkb(shapely.Point(3, 4))]
    path = tmp_path / "pts.gpkg"
    pyogrio.write_arrow(pa.table({"a": [1, 2, 3], "g": pa.array(wkb, pa.binary())}), path, layer="pts",
                        geometry_name="g", geometry_type="Point", crs="EPSG:4326")
    table = _whole(path)
    assert table.column("geometry").to_pylist() == [shapely.to_wkb(shapely.Point(1, 2)), None,
                                                   shapely.to_wkb(shapely.Point(3, 4))]
    empty = list(read_vector(path, skip_features=10))
    assert len(empty) == 1 and empty[0].num_rows == 0 and empty[0].column_names == ["a", "geometry"]
    assert _whole(path, columns=[]).column_names == ["geometry"]


def test_errors(tmp_path):
    with pytest.raises(EolinkedError, match="no such file") as exc:
        read_vector(tmp_path / "missing.shp")
    assert "missing.shp" in str(exc.value)
    path = tmp_path / "one.gpkg"
    pyogrio.write_arrow(_synthetic(), path, layer="parcels", geometry_name="wkb", geometry_type="Polygon",
                        crs="EPSG:4326")
    with pytest.raises(EolinkedError, match="no layer 'fields'") as exc:
        read_vector(path, "fields")
    assert exc.value.hint == "available layers: parcels"
    with pytest.raises(EolinkedError, match="no attribute 'nope'") as exc:
        read_vector(path, columns=["name", "nope"])
    assert "id, name, score" in exc.value.hint
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    with pytest.raises(EolinkedError, match="cannot read") as exc:
        vector_info(junk)
    assert str(junk) in str(exc.value)


def test_unknown_layer_lists_layers(shared_data):
    with pytest.raises(EolinkedError, match="no layer 'clc99_mt'") as exc:
        vector_info(shared_data / "corine/clc2018_mt.gpkg", "clc99_mt")
    assert "clc12_mt, clc18_mt, cha18_mt" in exc.value.hint

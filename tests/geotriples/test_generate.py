"""geotriples.generate: mappings for CSV, vector files and class rasters, run straight away."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyoxigraph
import pytest
import shapely

from eolinked.errors import EolinkedError
from geotriples import generate_mapping, transform
from geotriples.demo import write_crop_raster


def _objects(path, suffix):
    return [t.object for t in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES)
            if t.predicate.value.endswith(suffix)]


def test_csv_with_wkt_and_types(tmp_path):
    (tmp_path / "pts.csv").write_text("code,label,height,wkt\nA1,one,1.5,POINT (1 2)\nB2,two,2.5,POINT (3 4)\n")
    generate_mapping(str(tmp_path / "pts.csv"), str(tmp_path / "m.ttl"))
    text = (tmp_path / "m.ttl").read_text()
    assert "rr:datatype xsd:double" in text and "{code}" in text  # unique string column as id
    s = transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    assert s.records == 4 and len(_objects(tmp_path / "out.nt", "asWKT")) == 2
    heights = _objects(tmp_path / "out.nt", "#height")
    assert {h.value for h in heights} == {"1.5", "2.5"} and heights[0].datatype.value.endswith("double")


def test_geoparquet_round_trip(tmp_path):
    geoms = shapely.points([10.0, 11.0], [50.0, 51.0])
    crs = json.loads(__import__("pyproj").CRS("EPSG:4326").to_json())
    meta = {"version": "1.1.0", "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"], "crs": crs}}}
    table = pa.table({"id": [1, 2], "geometry": shapely.to_wkb(geoms)})
    table = table.replace_schema_metadata({"geo": json.dumps(meta)})
    pq.write_table(table, tmp_path / "p.parquet")
    generate_mapping(str(tmp_path / "p.parquet"), str(tmp_path / "m.ttl"))
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    wkts = sorted(o.value for o in _objects(tmp_path / "out.nt", "asWKT"))
    assert wkts == ["<http://www.opengis.net/def/crs/EPSG/0/4326> POINT (50 10)",
                    "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT (51 11)"]


def test_class_raster_regions(tmp_path):
    tif = write_crop_raster(tmp_path / "crops.tif", size=60)
    generate_mapping(str(tif), str(tmp_path / "m.ttl"))
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    counts = [int(o.value) for o in _objects(tmp_path / "out.nt", "#pixel_count")]
    import rasterio

    with rasterio.open(tif) as src:
        band = src.read(1)
    assert sum(counts) == int((band != 0).sum())
    values = {int(o.value) for o in _objects(tmp_path / "out.nt", "#value")}
    assert values == set(np.unique(band[band != 0]).tolist())


def test_missing_input(tmp_path):
    from eolinked.errors import EolinkedError

    with pytest.raises(EolinkedError, match="not found"):
        generate_mapping(str(tmp_path / "none.shp"), str(tmp_path / "m.ttl"))


def test_semicolon_csv_gets_a_dialect(tmp_path):
    (tmp_path / "codes.csv").write_text("code;name\nA11;Buildings, one to three floors\nB11;Wheat\n")
    generate_mapping(str(tmp_path / "codes.csv"), str(tmp_path / "m.ttl"))
    assert 'csvw:delimiter ";"' in (tmp_path / "m.ttl").read_text()
    transform(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"))
    text = (tmp_path / "out.nt").read_text()
    assert '"Buildings, one to three floors"' in text and "<http://example.com/Codes/B11>" in text


def test_malformed_csv_is_a_clear_error(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(EolinkedError, match="bad.csv.*cannot read the CSV"):
        generate_mapping(str(tmp_path / "bad.csv"), str(tmp_path / "m.ttl"))

"""Reading features from RDF and geo files: IRIs, geometries, CRS, cleaning, clear errors."""
import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from eolinked.errors import EolinkedError
from eolinked.vocab import GEO, WKT_LITERAL
from interlink import read_features
from interlink.features import Features

from .linkdata import (
    features,
    rdf_lines,
    write_geofile,
    write_ntriples,
    write_parquet_triples,
    write_turtle,
)


def _as_dict(f: Features) -> dict:
    return dict(zip(f.ids.to_pylist(), shapely.to_wkb(shapely.normalize(f.geoms))))


@pytest.mark.parametrize("kind", ["nt", "ttl", "parquet-triples", "gpkg", "geojson", "parquet"])
def test_every_input_kind_gives_the_same_features(tmp_path, synthetic, kind):
    src = synthetic[0]
    if kind == "nt":
        path, tpl = write_ntriples(tmp_path / "s.nt", src), None
    elif kind == "ttl":
        path, tpl = write_turtle(tmp_path / "s.ttl", src), None
    elif kind == "parquet-triples":
        path, tpl = write_parquet_triples(tmp_path / "s.parquet", src), None
    else:
        path, tpl = write_geofile(tmp_path / f"s.{kind}", src), "http://ex.org/s/{id}"
    got = read_features(path, tpl)
    assert got.crs.equals("OGC:CRS84", ignore_axis_order=True)
    assert _as_dict(got) == _as_dict(src)


def test_lat_lon_literals_come_back_in_lon_lat(tmp_path, synthetic):
    path = write_ntriples(tmp_path / "s.nt", synthetic[0], crs="EPSG:4326")
    assert '"<http://www.opengis.net/def/crs/EPSG/0/4326> POINT (47.' in path.read_text()
    got = read_features(path)
    assert _as_dict(got) == _as_dict(synthetic[0]) and got.crs.to_epsg() == 4326


def test_cleaning_is_reported(tmp_path):
    geoms = ["POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))", "POLYGON EMPTY", "POINT (1 1)", None]
    f = features(shapely.from_wkt(geoms), "x")
    assert len(f) == 2 and shapely.is_valid(f.geoms).all()
    assert any("repaired 1 invalid" in n and "<http://ex.org/x/0>" in n for n in f.notes)
    assert any("skipped 2 empty or missing" in n and "<http://ex.org/x/1>" in n for n in f.notes)


def test_unparsable_wkt_is_skipped_and_named(tmp_path, synthetic):
    bad = f'<http://ex.org/bad> <{GEO}hasGeometry> <http://ex.org/bad/g> .\n' \
          f'<http://ex.org/bad/g> <{GEO}asWKT> "POLYGON ((0 0, 1 1"^^<{WKT_LITERAL}> .\n'
    path = write_ntriples(tmp_path / "s.nt", synthetic[0], extra=bad)
    got = read_features(path)
    assert len(got) == len(synthetic[0])
    assert any("unparsable" in n and "<http://ex.org/bad>" in n and "POLYGON ((0 0, 1 1" in n for n in got.notes)


def test_default_geometry_blank_nodes_and_mixed_crs(tmp_path):
    lines = [
        f'<http://ex.org/a> <{GEO}hasGeometry> <http://ex.org/a/g1> .',
        f'<http://ex.org/a/g1> <{GEO}asWKT> "POINT (5 5)"^^<{WKT_LITERAL}> .',
        f'<http://ex.org/a> <{GEO}hasDefaultGeometry> <http://ex.org/a/g2> .',
        f'<http://ex.org/a/g2> <{GEO}asWKT> "POINT (1 2)"^^<{WKT_LITERAL}> .',
        f'_:b <{GEO}hasGeometry> <http://ex.org/a/g1> .',
        f'<http://ex.org/c> <{GEO}hasGeometry> <http://ex.org/c/g> .',
        f'<http://ex.org/c/g> <{GEO}asWKT> "<http://www.opengis.net/def/crs/EPSG/0/3857> POINT (0 0)"^^<{WKT_LITERAL}> .',
        f'<http://ex.org/d> <{GEO}hasGeometry> <http://ex.org/d/g> .',
        f'<http://ex.org/d/g> <{GEO}asWKT> "POINT (3 4)"^^<{WKT_LITERAL}> .',
    ]
    path = tmp_path / "m.nt"
    path.write_text("\n".join(lines) + "\n")
    got = read_features(path)
    assert got.ids.to_pylist() == ["http://ex.org/a", "http://ex.org/c", "http://ex.org/d"]
    assert shapely.get_coordinates(got.geoms).round(9).tolist() == [[1, 2], [0, 0], [3, 4]]
    notes = " ".join(got.notes)
    assert "blank-node" in notes and "several geometries" in notes and "reprojected" in notes


def test_row_template_and_null_ids(tmp_path):
    f = features(shapely.points([[0, 0], [1, 1], [2, 2]]), "p")
    path = write_geofile(tmp_path / "p.gpkg", f)
    got = read_features(path, "urn:x:{__row}")
    assert got.ids.to_pylist() == ["urn:x:1", "urn:x:2", "urn:x:3"]
    table = pa.table({"name": ["a b/c", None, "é"], "geometry": pa.array(shapely.to_wkb(f.geoms), pa.binary())})
    pyogrio.write_arrow(table, str(tmp_path / "n.gpkg"), geometry_name="geometry", geometry_type="Point",
                        crs="EPSG:4326")
    named = read_features(tmp_path / "n.gpkg", "http://ex.org/{name}")
    assert named.ids.to_pylist() == ["http://ex.org/a%20b%2Fc", "http://ex.org/é"]
    assert any("skipped 1 features whose --source-id attribute is empty (records 2)" in n for n in named.notes)


@pytest.mark.parametrize("template, message", [
    ("http://ex.org/{id", "unbalanced"), ("http://ex.org/{}", "empty reference"),
    ("http://ex.org/fixed", "no {attribute} reference"), ("parcel/{id}", "not an absolute IRI"),
    ("http://ex.org/{nope}", "names no attribute 'nope'"),
])
def test_bad_templates(tmp_path, template, message):
    path = write_geofile(tmp_path / "p.gpkg", features(shapely.points([[0, 0]]), "p"))
    with pytest.raises(EolinkedError, match=message) as exc:
        read_features(path, template, option="--target-id")
    text = str(exc.value)
    assert str(path) in text and "hint:" in text and ("--target-id" in text or "attributes: id" in text)


def test_usage_errors(tmp_path, synthetic):
    with pytest.raises(EolinkedError, match="no such file") as exc:
        read_features(tmp_path / "missing.nt")
    assert "missing.nt" in str(exc.value)
    gpkg = write_geofile(tmp_path / "p.gpkg", synthetic[0])
    with pytest.raises(EolinkedError, match="needs --source-id"):
        read_features(gpkg)
    nt = write_ntriples(tmp_path / "s.nt", synthetic[0])
    with pytest.raises(EolinkedError, match="applies to geo files only"):
        read_features(nt, "http://ex.org/{id}")
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://ex.org/a> <http://ex.org/p> .\n")
    with pytest.raises(EolinkedError, match="cannot parse RDF") as exc:
        read_features(broken)
    assert "broken.ttl" in str(exc.value)
    empty = tmp_path / "empty.nt"
    empty.write_text("<http://ex.org/a> <http://ex.org/p> <http://ex.org/b> .\n")
    with pytest.raises(EolinkedError, match="no features with geo:hasGeometry"):
        read_features(empty)


def test_ids_and_geometries_must_align():
    with pytest.raises(EolinkedError, match="2 ids but 1 geometries"):
        Features.from_arrays(pa.array(["a", "b"]), np.array([shapely.Point(0, 0)]))


def test_rdf_lines_escape_quotes(synthetic):
    assert all(line.endswith(" .\n") for line in rdf_lines(synthetic[0]).to_pylist()[:3])


def test_only_bad_literals_is_an_error(tmp_path):
    path = tmp_path / "bad.nt"
    path.write_text(f'<http://ex.org/f> <{GEO}hasGeometry> <http://ex.org/g> .\n'
                    f'<http://ex.org/g> <{GEO}asWKT> "POINT (1"^^<{WKT_LITERAL}> .\n')
    with pytest.raises(EolinkedError, match="no readable geometry literal; first: <http://ex.org/f>") as exc:
        read_features(path)
    assert "bad.nt" in str(exc.value)

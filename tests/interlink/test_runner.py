"""End to end on generated data: every relation of every pair equals a brute-force cross product,
for both indexes, 1 and 2 processes, RDF and geo-file input, mixed CRSs, progressive mode."""
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from interlink import Features, LinkSpec, interlink, link_tables, read_features
from interlink import runner as runner_mod
from interlink.align import align

from .linkdata import (
    brute_force,
    read_links,
    write_geofile,
    write_ntriples,
    write_parquet_triples,
    write_turtle,
)


@pytest.fixture(scope="module")
def expected(synthetic):
    return brute_force(*synthetic)


@pytest.mark.parametrize("index, processes", [("grid", 1), ("strtree", 1), ("grid", 2)])
def test_exact_equals_brute_force(tmp_path, synthetic, expected, index, processes):
    out = tmp_path / "links.nt"
    s = interlink(*synthetic, str(out), index=index, processes=processes, batch_size=25)
    got = read_links(out)
    assert got == expected
    assert s.triples == len(expected) and s.linked_pairs == len({(a, b) for a, _, b in expected})
    assert s.candidates == s.verified and "candidate pairs" in s.line()


def test_output_is_identical_for_any_process_count(tmp_path, synthetic):
    a, b = tmp_path / "a.nt", tmp_path / "b.nt"
    interlink(*synthetic, str(a), processes=1)
    interlink(*synthetic, str(b), processes=2, batch_size=10)
    assert a.read_bytes() == b.read_bytes()


def test_relation_subset(tmp_path, synthetic, expected):
    out = tmp_path / "links.nt"
    interlink(*synthetic, str(out), relations="sfTouches,ehCoveredBy", processes=1)
    assert read_links(out) == {x for x in expected if x[1] in ("sfTouches", "ehCoveredBy")}


@pytest.mark.parametrize("kind", ["nt", "ttl", "parquet"])
def test_rdf_input_gives_the_same_links_as_geo_files(tmp_path, synthetic, kind):
    src, tgt = synthetic
    writer = {"nt": write_ntriples, "ttl": write_turtle, "parquet": write_parquet_triples}[kind]
    rdf_s, rdf_t = writer(tmp_path / f"s.{kind}", src), writer(tmp_path / f"t.{kind}", tgt)
    geo_s, geo_t = write_geofile(tmp_path / "s.gpkg", src), write_geofile(tmp_path / "t.geojson", tgt)
    interlink(str(rdf_s), str(rdf_t), str(tmp_path / "rdf.nt"), processes=1)
    interlink(str(geo_s), str(geo_t), str(tmp_path / "geo.nt"), source_id="http://ex.org/s/{id}",
              target_id="http://ex.org/t/{id}", processes=1)
    assert read_links(tmp_path / "rdf.nt") == read_links(tmp_path / "geo.nt") == brute_force(src, tgt)


def test_target_in_web_mercator_is_compared_in_source_crs(tmp_path, synthetic):
    src, tgt = synthetic
    merc = Features(tgt.ids, crslib.reproject(tgt.geoms, "OGC:CRS84", "EPSG:3857"), crslib.as_crs("EPSG:3857"))
    path = write_geofile(tmp_path / "t.gpkg", merc, crs="EPSG:3857")
    s = interlink(src, str(path), str(tmp_path / "l.nt"), target_id="http://ex.org/t/{id}", processes=1)
    back = read_features(path, "http://ex.org/t/{id}")
    back = Features(back.ids, crslib.reproject(back.geoms, "EPSG:3857", "OGC:CRS84"), src.crs)
    assert read_links(tmp_path / "l.nt") == brute_force(src, back)
    assert any("reprojected from WGS 84 / Pseudo-Mercator" in n for n in s.notes)


def test_projected_source_and_lat_lon_literals(tmp_path, synthetic):
    src, tgt = synthetic
    laea = Features(src.ids, crslib.reproject(src.geoms, "OGC:CRS84", "EPSG:3035"), crslib.as_crs("EPSG:3035"))
    t_path = write_ntriples(tmp_path / "t.nt", tgt, crs="EPSG:4326")  # "lat lon" literals
    interlink(laea, str(t_path), str(tmp_path / "l.nt"), processes=1)
    moved = Features(tgt.ids, crslib.reproject(tgt.geoms, "OGC:CRS84", "EPSG:3035"), laea.crs)
    assert read_links(tmp_path / "l.nt") == brute_force(laea, moved)


def test_crs_choice():
    swiss = Features.from_arrays(pa.array(["urn:a"]), [shapely.Point(2600000, 1200000)], "EPSG:2056")
    near = Features.from_arrays(pa.array(["urn:b"]), [shapely.Point(7.4, 46.9)], "EPSG:4326")
    far = Features.from_arrays(pa.array(["urn:c"]), [shapely.Point(1.5, 42.5)], "EPSG:4326")
    assert align(swiss, near)[2].to_epsg() == 2056
    s, _, common, note = align(swiss, far)
    assert common.equals("OGC:CRS84") and "outside the area of use" in note
    assert shapely.get_coordinates(s.geoms)[0, 0] == pytest.approx(7.44, abs=0.01)
    assert align(swiss, near, crs="EPSG:3035")[2].to_epsg() == 3035


def test_progressive_with_full_budget_equals_exact(tmp_path, synthetic, expected):
    out = tmp_path / "p.nt"
    s = interlink(*synthetic, str(out), budget="100%", weighting="chi2*mbro", processes=1)
    assert read_links(out) == expected and s.verified == s.candidates
    small = interlink(*synthetic, str(tmp_path / "q.nt"), budget=10, weighting="mbro", processes=1)
    assert small.verified == 10 and read_links(tmp_path / "q.nt") <= expected


def test_pairs_file_and_named_graph(tmp_path, synthetic, expected):
    out, pairs = tmp_path / "l.nq", tmp_path / "pairs.parquet"
    interlink(*synthetic, str(out), graph="http://ex.org/links", pairs=str(pairs), processes=1)
    assert "<http://ex.org/links> .\n" in out.read_text()
    assert read_links(out) == expected
    t = pq.read_table(pairs).to_pylist()
    src, tgt = synthetic
    geo = dict(zip(src.ids.to_pylist(), src.geoms)) | dict(zip(tgt.ids.to_pylist(), tgt.geoms))
    assert {(r["source"], n, r["target"]) for r in t for n in r["relations"].split()} == expected
    assert all(r["de9im"] == shapely.relate(geo[r["source"]], geo[r["target"]]) for r in t)
    csv = tmp_path / "pairs.csv"
    interlink(*synthetic, pairs=str(csv), processes=1)
    assert csv.read_text().startswith('"source","target","de9im","relations"')


def test_failed_run_leaves_nothing(tmp_path, synthetic, monkeypatch):
    out, pairs = tmp_path / "l.nt", tmp_path / "p.parquet"
    out.write_text("old\n")

    def boom(*args):
        raise EolinkedError("disk full")
    monkeypatch.setattr(runner_mod, "write_pairs", boom)
    with pytest.raises(EolinkedError, match="disk full"):
        interlink(*synthetic, str(out), pairs=str(pairs), processes=1)
    assert out.read_text() == "old\n" and not pairs.exists()
    assert sorted(os.listdir(tmp_path)) == ["l.nt"]


def test_output_checks(tmp_path, synthetic):
    with pytest.raises(EolinkedError, match="N-Triples has no graph"):
        interlink(*synthetic, str(tmp_path / "l.nt"), graph="http://ex.org/g")
    with pytest.raises(EolinkedError, match="must be N-Triples"):
        interlink(*synthetic, str(tmp_path / "l.ttl"))
    with pytest.raises(EolinkedError, match="output directory does not exist"):
        interlink(*synthetic, str(tmp_path / "no" / "l.nt"))
    with pytest.raises(EolinkedError, match="several weightings or budgets are for --evaluate"):
        interlink(*synthetic, str(tmp_path / "l.nt"), budget="5%,10%")
    assert os.listdir(tmp_path) == []


def test_link_tables_partition_function(synthetic, expected):
    src, tgt = synthetic

    def table(f):
        return pa.table({"id": f.ids, "geometry": pa.array(shapely.to_wkb(f.geoms), pa.binary())})
    out = link_tables(table(src), table(tgt), LinkSpec())
    got = {(s, p.rsplit("#", 1)[1], t) for s, p, t in zip(*(out[c].to_pylist() for c in ("source", "predicate",
                                                                                          "target")))}
    assert got == expected
    # two partitions split at x = 10.1: the reference-point rule keeps every pair exactly once
    halves = [link_tables(table(src), table(tgt), LinkSpec(), extent=e)
              for e in ((-180, -90, 10.1, 90), (10.1, -90, 180, 90))]
    assert sum(h.num_rows for h in halves) == out.num_rows
    assert np.all([r in got for h in halves for r in
                   zip(h["source"].to_pylist(), [p.rsplit("#", 1)[1] for p in h["predicate"].to_pylist()],
                       h["target"].to_pylist())])


def test_gzip_output(tmp_path, synthetic, expected):
    import gzip

    out = tmp_path / "l.nt.gz"
    interlink(*synthetic, str(out), processes=1)
    (tmp_path / "l.nt").write_bytes(gzip.decompress(out.read_bytes()))
    assert read_links(tmp_path / "l.nt") == expected

"""interlink.spark: local[2] writes exactly the local engine's links (exact, progressive, distance)."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from eolinked.errors import EolinkedError
from interlink import Features, interlink

from .linkdata import features, osm_layer, window, write_geofile

pytest.importorskip("pyspark", reason="the Spark engine needs pyspark (pip install 'eolinked[spark]')")
from eolinked.spark import session
from interlink.spark import interlink_spark

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="module")
def spark():
    s = session("local[2]", "eolinked-interlink-tests", ui=False,
                conf={"spark.ui.showConsoleProgress": "false", "spark.sql.shuffle.partitions": "4"})
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def part_lines(out: Path) -> list[str]:
    lines = []
    for part in sorted(out.glob("part-*")):
        opener = gzip.open if part.suffix == ".gz" else open
        with opener(part, "rt", encoding="utf-8") as fh:
            lines += [line.rstrip("\n") for line in fh]
    return lines


def both(spark, tmp_path, source, target, name="links.nt", partitions=16, **kw):
    """Link with both engines; the Spark output equals the local file line for line (as sets, no duplicates)."""
    local = interlink(source, target, str(tmp_path / f"local-{name}"), processes=1, **kw)
    remote = interlink_spark(source, target, str(tmp_path / f"spark-{name}"), spark=spark, partitions=partitions, **kw)
    local_file = tmp_path / f"local-{name}"
    want = (gzip.decompress(local_file.read_bytes()) if name.endswith(".gz") else local_file.read_bytes()).decode().splitlines()
    got = part_lines(tmp_path / f"spark-{name}")
    assert len(got) == len(set(got)), "every pair is written once"
    assert set(got) == set(want)
    assert (remote.candidates, remote.verified, remote.linked_pairs, remote.triples) == \
        (local.candidates, local.verified, local.linked_pairs, local.triples)
    return local


def test_synthetic_all_relations(spark, synthetic, tmp_path):
    summary = both(spark, tmp_path, *synthetic, partitions=40)
    assert summary.triples > 100


@pytest.mark.parametrize("budget,scheme", [("25%", "chi2*mbro"), ("40", "js"), ("100%", "mbro"), ("10%", "isp")])
def test_synthetic_progressive_global_top_n(spark, synthetic, tmp_path, budget, scheme):
    summary = both(spark, tmp_path, *synthetic, budget=budget, weighting=scheme, partitions=40)
    assert summary.verified <= summary.candidates


def test_random_boxes_many_leaves(spark, tmp_path):
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 100, (3000, 2))
    wh = rng.exponential(1.5, (3000, 2))
    src = features(shapely.box(xy[:1500, 0], xy[:1500, 1], xy[:1500, 0] + wh[:1500, 0], xy[:1500, 1] + wh[:1500, 1]), "a")
    lines = shapely.linestrings(np.stack([xy[1500:], xy[1500:] + wh[1500:] * 3], axis=1))
    both(spark, tmp_path, src, features(lines, "b"), partitions=64, relations="sfIntersects,sfCrosses,sfTouches")


def test_distance_links_with_values(spark, tmp_path):
    rng = np.random.default_rng(8)
    pts = features(shapely.points(rng.uniform([9.5, 47.1], [9.6, 47.2], (400, 2))), "pt", crs="EPSG:4326")
    boxes = rng.uniform([9.5, 47.1], [9.6, 47.2], (300, 2))
    parcels = features(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 0] + 0.002, boxes[:, 1] + 0.001), "p",
                       crs="EPSG:4326")
    both(spark, tmp_path, pts, parcels, within_distance=150, distance_value=True, name="near.nq",
         graph="http://ex.org/links")


def test_osm_buildings_x_landuse_and_roads(spark, shared_data, tmp_path):
    pbf = shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf"
    buildings = osm_layer(pbf, "multipolygons", "building")
    both(spark, tmp_path, buildings, osm_layer(pbf, "multipolygons", "landuse"), partitions=32)
    roads = window(osm_layer(pbf, "lines", "highway", columns=("osm_id",)), (9.49, 47.12, 9.54, 47.17))
    both(spark, tmp_path, window(buildings, (9.49, 47.12, 9.54, 47.17)), roads, name="roads.nt.gz")


def test_geo_files_in_different_crs(spark, synthetic, tmp_path):
    src, tgt = synthetic
    path = write_geofile(tmp_path / "target.gpkg", Features.from_arrays(
        tgt.ids, shapely.transform(tgt.geoms, lambda xy: xy * 1000), "EPSG:3857"), crs="EPSG:3857")
    both(spark, tmp_path, src, str(path), target_id="http://ex.org/t/{id}")


def test_errors(spark, synthetic, tmp_path):
    with pytest.raises(EolinkedError, match=r"\.nt or \.nq"):
        interlink_spark(*synthetic, str(tmp_path / "links.ttl"), spark=spark)
    with pytest.raises(EolinkedError, match="random"):
        interlink_spark(*synthetic, str(tmp_path / "links.nt"), spark=spark, weighting="random")
    assert not (tmp_path / "links.nt").exists()


def test_spark_submit_command_line(spark, synthetic, tmp_path):
    import interlink.submit as job

    src, tgt = synthetic
    s = write_geofile(tmp_path / "s.gpkg", src)
    t = write_geofile(tmp_path / "t.gpkg", tgt)
    common = ["--source", str(s), "--source-id", "http://ex.org/s/{id}", "--target", str(t),
              "--target-id", "http://ex.org/t/{id}"]
    interlink(str(s), str(t), str(tmp_path / "local.nt"), source_id="http://ex.org/s/{id}",
              target_id="http://ex.org/t/{id}")
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run([str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", job.__file__,
                           *common, "-o", str(tmp_path / "links.nt"), "--partitions", "8"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "interlink:" in done.stdout
    assert set(part_lines(tmp_path / "links.nt")) == set((tmp_path / "local.nt").read_text().splitlines())

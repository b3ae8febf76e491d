"""geotriples.spark: the Spark engine in local[2] writes exactly the local engine's triples."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pyogrio
import pytest

from eolinked.errors import EolinkedError
from geotriples import generate_mapping, transform

from .rml_cases import RML, cases
from .test_real_data import DATASETS

pytest.importorskip("pyspark", reason="the Spark engine needs pyspark (pip install 'eolinked[spark]')")
from eolinked.spark import session
from geotriples.spark import transform_spark

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

REAL = DATASETS + [  # every dataset of ../shared/data that generate-mapping reads (OSM: two layers)
    ("nuts/nuts_1.json", None),
    ("nuts/nuts_3.json", None),
    ("sentinel/expected_search_footprints_s1.geojson", None),
    ("sentinel/expected_search_footprints_s2.geojson", None),
    ("sentinel/sentinel2_tiles_world_with_land.geojson", None),
    ("osm/liechtenstein-2013-08-03.osm.pbf", "points"),
    ("osm/andorra.osm.pbf", "multipolygons"),
    ("lucas/lucas_2018_sample_rows.csv", None),
    ("lucas/lucas_lc1_names.csv", None),
    ("eurocrops/hcat_core/HCAT3.csv", None),
    ("eurocrops/csvs/country_mappings/nl_2020.csv", None),
]


@pytest.fixture(scope="module")
def spark():
    s = session("local[2]", "eolinked-tests", ui=False, conf={
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.files.maxPartitionBytes": "4096",  # small files still make several splits
        "spark.sql.shuffle.partitions": "4"})
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def part_lines(out: Path) -> set[str]:
    """Lines of every part file (text, gzip or Parquet triples) of a Spark output directory."""
    lines: set[str] = set()
    for part in sorted(out.glob("part-*")):
        if part.suffix == ".parquet":
            t = pq.read_table(part)
            for s, p, o, g in zip(*(t.column(c).to_pylist() for c in "spog")):
                lines.add(f"{s} {p} {o} {g} ." if g else f"{s} {p} {o} .")
        else:
            opener = gzip.open if part.suffix == ".gz" else open
            with opener(part, "rt", encoding="utf-8") as fh:
                lines.update(line.rstrip("\n") for line in fh)
    return lines


def local_lines(mapping, tmp_path, name="local.nq", **kw) -> set[str]:
    out = tmp_path / name
    transform(str(mapping), str(out), **kw)
    return {line.rstrip("\n") for line in out.read_text(encoding="utf-8").splitlines()}


def assert_same(spark, mapping, tmp_path, out_name="spark.nq", local_kw=None, **kw):
    expected = local_lines(mapping, tmp_path, **(local_kw or {}))
    out = tmp_path / out_name
    summary = transform_spark(str(mapping), str(out), spark=spark, **{**(local_kw or {}), **kw})
    got = part_lines(out)
    assert got == expected, (sorted(expected - got)[:5], sorted(got - expected)[:5])
    assert summary.triples >= len(got)
    assert not list(tmp_path.glob("*.eolinked-tmp-*")), "no scratch directory is left behind"
    return summary


@pytest.mark.skipif(not RML.is_dir(), reason="../shared/conformance/rml is not there (CI has it)")
@pytest.mark.parametrize("case_dir,error,base", cases(known_failures=False))
def test_rml_case_equals_local(spark, case_dir: Path, error: bool, base, tmp_path):
    """Every RML test case: the same triples as the local engine, or the same kind of error."""
    mapping = case_dir / "mapping.ttl"
    try:
        expected = local_lines(mapping, tmp_path, base_iri=base)
    except EolinkedError:
        with pytest.raises(EolinkedError):
            transform_spark(str(mapping), str(tmp_path / "spark.nq"), spark=spark, base_iri=base, batch_size=2)
        assert not (tmp_path / "spark.nq").exists()
        assert not list(tmp_path.glob("*.eolinked-tmp-*"))
        return
    transform_spark(str(mapping), str(tmp_path / "spark.nq"), spark=spark, base_iri=base, batch_size=2)
    assert part_lines(tmp_path / "spark.nq") == expected


@pytest.mark.parametrize("rel,layer", REAL, ids=[f"{r}:{l}" if l else r for r, l in REAL])
def test_real_dataset_equals_local(spark, shared_data, rel, layer, tmp_path):
    src = shared_data / rel
    mapping = tmp_path / "mapping.ttl"
    generate_mapping(str(src), str(mapping), layer=layer)
    summary = assert_same(spark, mapping, tmp_path, out_name="spark.nt", local_kw={"batch_size": 700},
                          partitions=3)
    assert summary.records > 0


def test_csv_splits_row_numbers_and_blank_nodes(spark, tmp_path):
    """A CSV read in many splits: record numbers (row references, blank nodes) are exact."""
    rng = np.random.default_rng(3)
    n = 3000
    x, y = rng.uniform(9, 17, n), rng.uniform(46, 49, n)
    rows = ["id,name,wkt"] + [f"{i},\"parcel, {i}\",POINT ({a:.6f} {b:.6f})" for i, (a, b) in enumerate(zip(x, y))]
    rows.insert(500, "")  # an empty line is no record
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "m.ttl").write_text("""
@prefix rml: <http://w3id.org/rml/> . @prefix ex: <http://ex.org/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
<#P> rml:logicalSource [ rml:source [ a rml:RelativePathSource ; rml:path "points.csv" ] ;
                         rml:referenceFormulation rml:CSV ] ;
  rml:subjectMap [ rml:template "http://ex.org/p/{__row}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:name ; rml:objectMap [ rml:reference "name" ] ] ;
  rml:predicateObjectMap [ rml:predicate ex:id ; rml:objectMap [ rml:reference "id" ] ] ;
  rml:predicateObjectMap [ rml:predicate geo:hasGeometry ; rml:objectMap [ rml:termType rml:BlankNode ] ] ;
  rml:predicateObjectMap [ rml:predicate geo:asWKT ;
      rml:objectMap [ rml:reference "wkt" ; rml:datatype geo:wktLiteral ] ] .
""")
    summary = assert_same(spark, tmp_path / "m.ttl", tmp_path, out_name="out.nt.gz", batch_size=128)
    assert summary.records == n
    assert len(list((tmp_path / "out.nt.gz").glob("part-*.nt.gz"))) > 3  # many splits, gzip parts


def test_json_lines_with_a_join_on_a_condition(spark, shared_data, tmp_path):
    """JSON Lines through Spark's text reader, joined to a CSV parent by a Spark join."""
    import csv

    with open(shared_data / "lucas" / "lucas_2018_sample_rows.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    lines = [json.dumps({"id": r["POINT_ID"], "lc1": r["LC1"], "lat": float(r["TH_LAT"]),
                         "lon": float(r["TH_LONG"])}) for r in rows] * 40
    (tmp_path / "points.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "m.ttl").write_text(f"""
@prefix rml: <http://w3id.org/rml/> . @prefix ex: <http://ex.org/> . @prefix csvw: <http://www.w3.org/ns/csvw#> .
<#P> rml:logicalSource [ rml:source [ a rml:RelativePathSource ; rml:path "points.jsonl" ] ;
                         rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;
  rml:subjectMap [ rml:template "http://ex.org/point/{{$.id}}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:lat ; rml:objectMap [ rml:reference "$.lat" ] ] ;
  rml:predicateObjectMap [ rml:predicate ex:cover ; rml:objectMap [ rml:parentTriplesMap <#C> ;
      rml:joinCondition [ rml:child "$.lc1" ; rml:parent "code" ] ] ] .
<#C> rml:logicalSource [ rml:source [ a csvw:Table ; csvw:url "{shared_data / 'lucas' / 'lucas_lc1_names.csv'}" ;
                                       csvw:dialect [ csvw:delimiter ";" ] ] ;
                         rml:referenceFormulation rml:CSV ] ;
  rml:subjectMap [ rml:template "http://ex.org/lc/{{code}}" ] .
""")
    summary = assert_same(spark, tmp_path / "m.ttl", tmp_path, batch_size=50)
    codes = (shared_data / "lucas" / "lucas_lc1_names.csv").read_text().splitlines()
    assert summary.records == len(lines) + len(codes) - 1


def test_geoparquet_as_parquet_triples(spark, shared_data, tmp_path):
    """GeoParquet through Spark's Parquet reader (a file:// URI), written as Parquet triples."""
    meta, table = pyogrio.read_arrow(shared_data / "nuts" / "nuts_2.json")
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}}}
    table = table.rename_columns([("geometry" if c == meta["geometry_name"] or c == "wkb_geometry" else c)
                                  for c in table.column_names])
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, tmp_path / "nuts2.parquet", row_group_size=40)
    mapping = tmp_path / "m.ttl"
    generate_mapping(str(tmp_path / "nuts2.parquet"), str(mapping))
    out = tmp_path / "triples.parquet"
    expected = local_lines(mapping, tmp_path)
    transform_spark(str(mapping), str(out), spark=spark, overrides={"nuts2.parquet": f"file://{tmp_path}/nuts2.parquet"})
    assert part_lines(out) == expected
    assert pq.read_schema(next(out.glob("part-*.parquet"))).names == ["s", "p", "o", "g"]


def test_raster_strips_equal_local(spark, tmp_path):
    from geotriples.demo import write_crop_raster

    raster = write_crop_raster(tmp_path / "crops.tif", size=120, seed=4)
    mapping = tmp_path / "m.ttl"
    generate_mapping(str(raster), str(mapping))
    summary = assert_same(spark, mapping, tmp_path, out_name="spark.nt", partitions=7)
    assert summary.records > 10


def test_raster_row_numbers_are_refused(spark, tmp_path):
    from geotriples.demo import write_crop_raster

    write_crop_raster(tmp_path / "crops.tif", size=30)
    (tmp_path / "m.ttl").write_text("""
@prefix rml: <http://w3id.org/rml/> . @prefix ex: <http://ex.org/> .
<#R> rml:logicalSource [ rml:source [ a rml:RelativePathSource ; rml:path "crops.tif" ] ;
                         rml:referenceFormulation <http://example.org/raster> ] ;
  rml:subjectMap [ rml:template "http://ex.org/r/{__row}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:value ; rml:objectMap [ rml:reference "value" ] ] .
""")
    with pytest.raises(EolinkedError, match="region id"):
        transform_spark(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"), spark=spark)
    assert not (tmp_path / "out.nt").exists()


def test_errors_leave_nothing_behind(spark, tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n{"id": 2,\n')
    (tmp_path / "m.ttl").write_text("""
@prefix rml: <http://w3id.org/rml/> . @prefix ex: <http://ex.org/> .
<#P> rml:logicalSource [ rml:source [ a rml:RelativePathSource ; rml:path "bad.jsonl" ] ;
                         rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;
  rml:subjectMap [ rml:template "http://ex.org/{$.id}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:p ; rml:objectMap [ rml:reference "$.id" ] ] .
""")
    (tmp_path / "out.nt").mkdir()
    (tmp_path / "out.nt" / "part-00000.nt").write_text("<a:b> <a:c> <a:d> .\n")
    with pytest.raises(EolinkedError, match=r"bad\.jsonl:2.*invalid JSON"):
        transform_spark(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"), spark=spark)
    assert part_lines(tmp_path / "out.nt") == {"<a:b> <a:c> <a:d> ."}, "the previous output is kept"
    assert not list(tmp_path.glob("*.eolinked-tmp-*"))
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(EolinkedError, match="source file not found"):
        transform_spark(str(tmp_path / "m.ttl"), str(tmp_path / "x.nt"), spark=spark,
                        overrides={"bad.jsonl": str(tmp_path / "missing.jsonl")})
    with pytest.raises(EolinkedError, match="cannot write"):
        transform_spark(str(tmp_path / "m.ttl"), str(tmp_path / "x.ttl"), spark=spark)
    transform_spark(str(tmp_path / "m.ttl"), str(tmp_path / "out.nt"), spark=spark)
    assert part_lines(tmp_path / "out.nt") == {'<http://ex.org/1> <http://ex.org/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .'}


def test_cli_engine_spark(spark, shared_data, tmp_path, capsys):
    from eolinked.cli import main

    mapping = tmp_path / "m.ttl"
    generate_mapping(str(shared_data / "nuts" / "nuts_0.json"), str(mapping))
    assert main(["transform", "--engine", "spark", "-m", str(mapping), "-o", str(tmp_path / "out.nq"),
                 "--partitions", "2"]) == 0
    assert "wrote" in capsys.readouterr().err
    assert part_lines(tmp_path / "out.nq") == local_lines(mapping, tmp_path)


def test_spark_submit_command_line(spark, shared_data, tmp_path):
    """The README's spark-submit line, end to end, in its own JVM."""
    import geotriples.submit as job

    mapping = tmp_path / "m.ttl"
    generate_mapping(str(shared_data / "crops" / "ec_si" / "SI_2021_EC21.shp"), str(mapping))
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    cmd = [str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", job.__file__,
           "-m", str(mapping), "-o", str(tmp_path / "out.nt.gz"), "--partitions", "4"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "wrote" in done.stdout  # spark-submit passes the Python driver's stderr on to its stdout
    assert part_lines(tmp_path / "out.nt.gz") == local_lines(mapping, tmp_path)


def test_progress_bar_counts_spark_tasks(spark, capsys):
    from eolinked.spark import Progress

    with Progress(spark, "counting", enabled=True):
        assert spark.range(0, 100_000, numPartitions=6).selectExpr("sum(id)").collect()[0][0] == 4_999_950_000
        import time

        time.sleep(1.2)  # the bar polls every half second
    err = capsys.readouterr().err
    assert "counting" in err and "task" in err

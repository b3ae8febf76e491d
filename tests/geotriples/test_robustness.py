"""Issue 12 on the transform side: the same bytes on every run and for any process count, the
normal file mode, a quiet end on a closed standard output, and --invalid for unreadable WKT with
the record's real number and line."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from eolinked.cli import EXIT_CLOSED_OUTPUT, run
from eolinked.errors import EolinkedError
from geotriples import transform
from geotriples.generate import RML_PREFIXES

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = RML_PREFIXES + "@prefix ex: <http://example.com/ns#> .\n"

# blank-node triples maps, several classes / predicates / objects / graphs, fresh blank nodes,
# a join between two sources: everything whose order rdflib gives in hash order
MAPPING = PREFIXES + """
[] rml:logicalSource [ rml:source "parcels.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{id}" ; rr:class ex:Parcel, ex:Field, ex:Area ;
                  rr:graph ex:g1, ex:g2 ] ;
  rr:predicateObjectMap [ rr:predicate ex:name, ex:label, ex:title ; rr:objectMap [ rml:reference "name" ] ] ;
  rr:predicateObjectMap [ rr:predicate ex:kind ; rr:object ex:a, ex:b, ex:c ] ;
  rr:predicateObjectMap [ rr:predicate ex:row ; rr:objectMap [ rml:reference "__row" ] ] ;
  rr:predicateObjectMap [ rr:predicate geo:hasGeometry ; rr:objectMap [ rr:termType rr:BlankNode ] ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "wkt" ] ) ] ] .
[] rml:logicalSource [ rml:source "parcels.shp" ] ;
  rr:subjectMap [ rr:termType rr:BlankNode ; rr:class ex:Shape, ex:Geometry ] ;
  rr:predicateObjectMap [ rr:predicate ex:code, ex:id ; rr:objectMap [ rml:reference "code" ] ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "the_geom" ] ) ] ] .
"""


def _data(tmp_path: Path, n: int = 6_000) -> Path:
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 10, (n, 2))
    rows = [f'{k},n{k % 97},"POINT ({x} {y})"\n' for k, (x, y) in enumerate(xy)]
    (tmp_path / "parcels.csv").write_text("id,name,wkt\n" + "".join(rows))
    table = pa.table({"code": pa.array([f"c{k}" for k in range(n // 3)]),
                      "geometry": pa.array(shapely.to_wkb(shapely.points(xy[: n // 3])), pa.binary())})
    pyogrio.write_arrow(table, str(tmp_path / "parcels.shp"), geometry_name="geometry", geometry_type="Point",
                        crs="EPSG:4326")
    (tmp_path / "map.ttl").write_text(MAPPING)
    return tmp_path / "map.ttl"


def _cli(args, seed: int, **kw):
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "eolinked.cli", *args], env=env, capture_output=True, **kw)


def test_output_is_the_same_bytes_for_any_run_and_process_count(tmp_path):
    m = _data(tmp_path)
    outputs = []
    for seed, processes in ((1, 1), (2, 1), (3, 2), (4, 3)):
        out = tmp_path / f"out-{seed}.nq"
        proc = _cli(["transform", "-m", str(m), "-o", str(out), "--processes", str(processes),
                     "--batch-size", "1000"], seed)
        assert proc.returncode == 0, proc.stderr.decode()
        outputs.append(out.read_bytes())
    assert len(outputs[0]) > 1_000_000 and all(o == outputs[0] for o in outputs[1:])
    text = outputs[0].decode()
    # record by record: all lines of record 1 (every term map) come before record 2's
    assert text.rfind("<http://example.com/parcel/0> ") < text.index("<http://example.com/parcel/1> ")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_outputs_get_the_normal_file_mode(tmp_path, umask):
    (tmp_path / "parcels.csv").write_text('id,name,wkt\n1,a,POINT (1 2)\n')
    (tmp_path / "map.ttl").write_text(PREFIXES + """
<#P> rml:logicalSource [ rml:source "parcels.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{id}" ; rr:class ex:Parcel ] .
""")
    old = os.umask(umask)
    try:
        for name in ("out.nt", "out.ttl.gz"):
            transform(str(tmp_path / "map.ttl"), str(tmp_path / name))
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    finally:
        os.umask(old)


def test_closed_standard_output_ends_quietly(tmp_path):
    m = _data(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "eolinked.cli", "transform", "-m", str(m), "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == EXIT_CLOSED_OUTPUT
    assert first.endswith(b" .\n") and "Traceback" not in err and "BrokenPipe" not in err and err == ""


def test_every_command_ends_quietly_on_a_closed_output(capsys):
    parser = argparse.ArgumentParser(prog="eolinked")
    sub = parser.add_subparsers(dest="command")

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")
    sub.add_parser("query").set_defaults(run=closed)
    assert run(parser, ["query"]) == EXIT_CLOSED_OUTPUT
    assert capsys.readouterr().err == ""


WKT_MAP = PREFIXES + """
<#P> rml:logicalSource [ rml:source "parcels.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{id}" ; rr:class ex:Parcel ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ;
    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "wkt" ] ) ] ] .
"""


def _wkt_csv(tmp_path: Path) -> Path:
    """Record 5 (line 7: an empty line comes before it) holds WKT that does not parse, record 7 an
    unknown CRS IRI."""
    lines = ["1,POINT (1 2)", "2,POINT (3 4)", "", "3,POINT (5 6)", "4,POINT (7 8)", "5,POINT (1",
             "6,POINT (0 0)", '7,"<http://example.com/crs/1> POINT (1 1)"', "8,POINT (2 2)"]
    (tmp_path / "parcels.csv").write_text("id,wkt\n" + "\n".join(lines) + "\n")
    (tmp_path / "map.ttl").write_text(WKT_MAP)
    return tmp_path / "map.ttl"


@pytest.mark.parametrize("invalid", ["fail", "repair"])
def test_unreadable_wkt_names_the_record_and_line(tmp_path, invalid):
    m = _wkt_csv(tmp_path)
    for batch_size in (2, 65536):  # the real record number whatever the batch
        with pytest.raises(EolinkedError) as err:
            transform(str(m), str(tmp_path / "out.nt"), invalid=invalid, batch_size=batch_size)
        text = str(err.value)
        assert "unreadable WKT in record 5 (line 7)" in text and "POINT (1" in text and "--invalid skip" in text
        assert not (tmp_path / "out.nt").exists()


@pytest.mark.parametrize("processes", [1, 2])
def test_unreadable_wkt_is_skipped_and_counted(tmp_path, processes):
    m = _wkt_csv(tmp_path)
    s = transform(str(m), str(tmp_path / "out.nt"), invalid="skip", batch_size=2, processes=processes)
    text = (tmp_path / "out.nt").read_text()
    assert s.report["unreadable"] == 2 and s.report["first_unreadable_record"] == 5
    assert "skipped 2 unreadable geometries (first at record 5)" in s.line()
    assert text.count("asWKT") == 6 and text.count("#Parcel>") == 8  # the records stay, without geometry
    assert "parcel/5> <http://www.opengis.net/ont/geosparql#asWKT>" not in text

"""eolinked transform vs morph-kgc on the same legacy-RML mapping and the same generated input.

Generates parcels (a CSV with a WKT column, and the same features as a shapefile), runs
morph-kgc (in the peer venv, .venv-peers, made by `make peers`) and eolinked pinned to one core
(Arrow's thread pools too), then eolinked with 2 processes, and prints triples per second and the
ratio. morph-kgc cannot read shapefiles, so the shapefile runs are eolinked only and are compared
with morph-kgc's CSV rate.

usage: python benchmarks/transform.py [--rows 1000000] [--peer-python .venv-peers/bin/python]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

MAPPING = """@prefix ex: <http://example.com/ontology#> .
@base <http://example.com/mapping/> .

<#Parcel> a rr:TriplesMap ;
  rml:logicalSource [ rml:source "{source}" {formulation} ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{{id}}" ; rr:class ex:Parcel ] ;
  rr:predicateObjectMap [ rr:predicate ex:name ; rr:objectMap [ rml:reference "name" ] ] ;
  rr:predicateObjectMap [ rr:predicate ex:cropCode ; rr:objectMap [ rml:reference "crop" ; rr:datatype xsd:integer ] ] ;
  rr:predicateObjectMap [ rr:predicate ex:area ; rr:objectMap [ rml:reference "area" ; rr:datatype xsd:double ] ] ;
  rr:predicateObjectMap [ rr:predicate geo:hasGeometry ;
    rr:objectMap [ rr:template "http://example.com/parcel/{{id}}/geometry" ] ] .

<#Geometry> a rr:TriplesMap ;
  rml:logicalSource [ rml:source "{source}" {formulation} ] ;
  rr:subjectMap [ rr:template "http://example.com/parcel/{{id}}/geometry" ; rr:class geo:Geometry ] ;
  rr:predicateObjectMap [ rr:predicate geo:asWKT ; rr:objectMap [ {geometry} ; rr:datatype geo:wktLiteral ] ] .
"""


def generate(rows: int) -> tuple[Path, Path]:
    """Square parcels on a grid (EPSG:25832 metres), with a name, a crop code and an area."""
    DATA.mkdir(exist_ok=True)
    csv_path, shp_path = DATA / f"parcels_{rows}.csv", DATA / f"parcels_{rows}.shp"
    if csv_path.exists() and shp_path.exists():
        return csv_path, shp_path
    import pyogrio
    import shapely

    rng = np.random.default_rng(42)
    ids = np.arange(1, rows + 1)
    x = 500000 + (ids % 1000) * 120.0 + rng.random(rows) * 10
    y = 5500000 + (ids // 1000) * 120.0 + rng.random(rows) * 10
    size = 50 + rng.random(rows) * 50
    geoms = shapely.box(x, y, x + size, y + size)
    names = pa.array(np.char.add("parcel ", ids.astype(str)))
    table = pa.table({"id": ids, "name": names, "crop": rng.integers(100, 999, rows),
                      "area": np.round(size * size, 2)})
    wkt = pa.array(shapely.to_wkt(geoms, rounding_precision=-1))
    pcsv.write_csv(table.append_column("wkt", wkt), csv_path)
    pyogrio.write_arrow(table.append_column("geometry", pa.array(shapely.to_wkb(geoms))), shp_path,
                        geometry_name="geometry", geometry_type="Polygon", crs="EPSG:25832",
                        driver="ESRI Shapefile")
    return csv_path, shp_path


def write_mapping(source: Path, csv: bool, path: Path) -> Path:
    geometry = 'rml:reference "wkt"' if csv else 'rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference "the_geom" ] )'
    formulation = "; rml:referenceFormulation ql:CSV" if csv else ""
    from geotriples.generate import RML_PREFIXES

    path.write_text(RML_PREFIXES + MAPPING.format(source=source, formulation=formulation, geometry=geometry))
    return path


def pin(cores: int) -> None:
    """Restrict this process (and what it starts) to the first ``cores`` CPUs, Arrow's threads too."""
    os.sched_setaffinity(0, set(range(cores)))
    pa.set_cpu_count(cores)
    pa.set_io_thread_count(cores)


def run_eolinked(mapping: Path, out: Path, processes: int = 1) -> tuple[int, float]:
    from geotriples.runner import transform

    pin(1 if processes == 1 else min(processes, os.cpu_count() or 1))
    os.sync()  # earlier runs' output is on disk, not being flushed during this one
    start = time.perf_counter()
    summary = transform(str(mapping), str(out), processes=processes)
    seconds = time.perf_counter() - start
    out.unlink()
    return summary.triples, seconds


def run_morph(mapping: Path, out: Path, python: str) -> tuple[int, float]:
    config = out.with_suffix(".ini")
    config.write_text(f"[CONFIGURATION]\noutput_file={out}\nnumber_of_processes=1\n"
                      f"[DataSource1]\nmappings={mapping}\n")
    pin(1)
    os.sync()
    start = time.perf_counter()
    subprocess.run([python, "-m", "morph_kgc", str(config)], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    with open(out, "rb") as fh:
        count = sum(1 for _ in fh)
    out.unlink()
    return count, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--peer-python", default=str(HERE.parent / ".venv-peers" / "bin" / "python"))
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    csv_path, shp_path = generate(args.rows)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        tmp = Path(tmp)
        csv_map = write_mapping(csv_path, True, tmp / "csv.rml.ttl")
        shp_map = write_mapping(shp_path, False, tmp / "shp.rml.ttl")
        results = {}
        results["eolinked csv"] = run_eolinked(csv_map, tmp / "e_csv.nt")
        results["eolinked shapefile"] = run_eolinked(shp_map, tmp / "e_shp.nt")
        results["eolinked csv, 2 processes"] = run_eolinked(csv_map, tmp / "e_csv2.nt", processes=2)
        results["eolinked shapefile, 2 processes"] = run_eolinked(shp_map, tmp / "e_shp2.nt", processes=2)
        if not args.skip_peer and os.path.exists(args.peer_python):
            results["morph-kgc csv"] = run_morph(csv_map, tmp / "m_csv.nt", args.peer_python)
    print(f"{args.rows:,} features, 7 triples per feature; one core unless '2 processes'")
    peer = results.get("morph-kgc csv")
    for name, (count, seconds) in results.items():
        rate = count / seconds
        ratio = f"  {rate / (peer[0] / peer[1]):.2f}x morph-kgc" if peer and not name.startswith("morph") else ""
        print(f"{name:34s} {count:>11,} triples {seconds:8.1f} s {rate:>12,.0f} triples/s{ratio}")


if __name__ == "__main__":
    main()

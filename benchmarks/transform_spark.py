"""eolinked transform on Spark, local[1] against local[2], and against the local engine with 2 processes.

Same generated parcels as benchmarks/transform.py (a CSV with a WKT column and the same features as
a shapefile, 7 triples per feature), written as N-Triples. Each Spark run is its own driver process
(a fresh JVM with that master) that runs the job twice; the time is the second run's, from the
mapping to the renamed output (the first run, which also warms the JVM up, and the JVM start
are printed apart). Prints the local[2] / local[1] speed-up and the ratio of
local[2] to the local engine with 2 processes.

usage: python benchmarks/transform_spark.py [--rows 2000000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from transform import DATA, generate, run_eolinked, write_mapping


def spark_worker(master: str, mapping: str, out: str) -> None:
    """Runs in its own process: start Spark with ``master``, run the job, print timings as JSON."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from eolinked.spark import session
    from geotriples.spark import transform_spark

    start = time.perf_counter()
    spark = session(master, "eolinked benchmark", ui=False, conf={"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    times = [time.perf_counter()]
    for _ in range(2):  # the first run also warms the JVM up (JIT); the second is the job's own time
        summary = transform_spark(mapping, out, spark=spark)
        times.append(time.perf_counter())
    print(json.dumps({"triples": summary.triples, "records": summary.records, "cold": times[1] - times[0],
                      "job": times[2] - times[1], "startup": times[0] - start}))
    spark.stop()


def run_spark(master: str, mapping: Path, out: Path) -> dict:
    os.sync()
    done = subprocess.run([sys.executable, __file__, "--worker", master, str(mapping), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"Spark run {master} failed:\n{done.stderr[-3000:]}")
    shutil.rmtree(out)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cold(run: dict) -> str:
    return f"(first run {run['cold']:.1f} s, JVM start {run['startup']:.1f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--worker", nargs=3, metavar=("MASTER", "MAPPING", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        spark_worker(*args.worker)
        return
    csv_path, shp_path = generate(args.rows)
    print(f"{args.rows:,} features, 7 triples per feature, N-Triples output; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        tmp = Path(tmp)
        for kind, source in (("csv", csv_path), ("shapefile", shp_path)):
            mapping = write_mapping(source, kind == "csv", tmp / f"{kind}.rml.ttl")
            one = run_spark("local[1]", mapping, tmp / "s1.nt")
            two = run_spark("local[2]", mapping, tmp / "s2.nt")
            triples, local_seconds = run_eolinked(mapping, tmp / "local2.nt", processes=2)
            assert one["triples"] == two["triples"] == triples, (one, two, triples)
            for name, seconds, extra in (("spark local[1]", one["job"], _cold(one)),
                                         ("spark local[2]", two["job"], _cold(two)),
                                         ("local engine, 2 processes", local_seconds, "")):
                print(f"{kind:9s} {name:26s} {triples:>11,} triples {seconds:7.1f} s "
                      f"{triples / seconds:>11,.0f} triples/s {extra}")
            print(f"{kind:9s} speed-up local[2] / local[1]: {one['job'] / two['job']:.2f}x; "
                  f"local[2] / local engine (2 processes): {local_seconds / two['job']:.2f}x")


if __name__ == "__main__":
    main()

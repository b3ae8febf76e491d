"""GeoSPARQL Compliance Benchmark (GSB) score of the eolinked store (or of pyoxigraph, for reference).

Runs the 206 GSB queries of ../shared/conformance/geosparql on dataset.rdf (loaded into the
default graph; the 6 ``# INFERENCE`` queries of R25-R27 on a store opened with RDFS entailment when
the engine supports it), compares each result with the expected answer and its alternatives the
way the benchmark does, and prints per-requirement results, the wrong answers and the weighted
compliance score from requirements.json (R17, which has no query, is credited when the score is
above zero).  The runner and scorer are tests/store/gsb.py, shared with the pytest module.

usage: python benchmarks/geosparql_compliance.py [--engine eolinked|oxigraph] [--json out.json]
                                                [--exclude REGEX]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root: the store package and tests.store.gsb

from tests.store import gsb, w3c


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["eolinked", "oxigraph"], default="eolinked")
    ap.add_argument("--json", type=Path, default=None, help="also write per-query results here")
    ap.add_argument("--exclude", default=None, help="skip queries whose id matches this regex (counted wrong)")
    args = ap.parse_args(argv)
    if not gsb.GSB.is_dir():
        print(f"{gsb.GSB} is not there", file=sys.stderr)
        return 2
    engine = w3c.make_engine(args.engine)
    start = time.perf_counter()
    skip = re.compile(args.exclude) if args.exclude else None
    ids = [q.id for q in gsb.queries() if not (skip and skip.search(q.id))]
    outcomes = gsb.run(engine, only=ids)
    done = {o.query.id for o in outcomes}
    outcomes += [gsb.Outcome(q, False, "excluded (--exclude)") for q in gsb.queries() if q.id not in done]
    outcomes.sort(key=lambda o: o.query.index)
    elapsed = time.perf_counter() - start
    print(gsb.report(outcomes, engine.name))
    print(f"({len(outcomes)} queries in {elapsed:.1f} s, load included)")
    if args.json:
        s = gsb.score(outcomes)
        args.json.write_text(json.dumps({
            "engine": engine.name, "correct": s["correct"], "queries": s["queries"], "percent": s["percent"],
            "requirements": {r: {"correct": p["correct"], "queries": p["queries"],
                                 "points": float(p["points"])} for r, p in s["requirements"].items()},
            "results": [{"query": o.query.id, "requirement": o.query.requirement, "correct": o.correct,
                         "message": o.message} for o in outcomes]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""eolinked store vs Oxigraph (pyoxigraph, on disk) on Geographica-style data (benchmarks/geographica.py).

For each ``--triples`` scale the dataset is generated once (cached in ``--data``), then loaded by
each tool into a fresh on-disk store (eolinked ``store.load``; pyoxigraph ``Store(path).bulk_load``)
and queried with the same SPARQL. Every load and every query runs in a fresh process of its own
(cold-ish: a new process, but the OS page cache is warm), killed with its process group after the
time limit (``--peer-timeout`` for Oxigraph's queries, which it answers by nested loops: it has no
spatial index). eolinked runs each query twice in its process: the first run and a warm second
run are both reported; the ratio is Oxigraph / eolinked first run. Both sides' results are
compared as sorted rows (numeric literals compared by value, 9 significant digits), and the row
counts with a reference computed from the generator's features with shapely (``child_reference``).

Queries (``QUERIES``): Q1 spatial selection of all geometries with a constant polygon (1% of the
region), Q2 parcels x roads spatial join with a 1% tag filter, Q3 POIs within states with a 50%
tag filter, Q4 a non-spatial three-way join (POI -> parcel -> state), Q5 GROUP BY with COUNT/AVG.

usage: python benchmarks/store.py [--triples 1000000 10000000] [--peer-timeout 600]
           [--tools eolinked oxigraph] [--queries Q1 Q2 ...] [--data DIR] [--keep-stores]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# `import store` must find the package, not this file
sys.path = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (HERE, ROOT)]
_spec = importlib.util.spec_from_file_location("geographica", HERE / "geographica.py")
geographica = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(geographica)

DATA = HERE / "data" / "store"
PREFIXES = f"""PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX ex: <{geographica.EX}>
"""
QUERIES = {
    "Q1": ("spatial selection: all geometries sfIntersects a constant polygon", f"""
SELECT ?f WHERE {{
  ?f geo:hasGeometry ?g . ?g geo:asWKT ?w .
  FILTER(geof:sfIntersects(?w, {geographica.window(0.01)}))
}}"""),
    "Q2": ("spatial join: parcels (1% tag) sfIntersects roads", """
SELECT ?parcel ?road WHERE {
  ?parcel a ex:Parcel ; ex:tag "rare" ; geo:hasGeometry ?pg . ?pg geo:asWKT ?pw .
  ?road a ex:Road ; geo:hasGeometry ?rg . ?rg geo:asWKT ?rw .
  FILTER(geof:sfIntersects(?pw, ?rw))
}"""),
    "Q3": ("spatial join: POIs (50% tag) sfWithin states", """
SELECT ?poi ?state WHERE {
  ?poi a ex:PointOfInterest ; ex:tag "common" ; geo:hasGeometry ?pg . ?pg geo:asWKT ?pw .
  ?state a ex:State ; geo:hasGeometry ?sg . ?sg geo:asWKT ?sw .
  FILTER(geof:sfWithin(?pw, ?sw))
}"""),
    "Q4": ("three-way join: museum POIs -> parcel -> state (50% tag), no spatial", """
SELECT ?poi ?parcel ?state ?name WHERE {
  ?poi ex:category "museum" ; ex:inParcel ?parcel .
  ?parcel ex:inState ?state .
  ?state ex:tag "common" ; rdfs:label ?name .
}"""),
    "Q5": ("aggregate: parcels per state, COUNT and AVG(areaClass)", """
SELECT ?state (COUNT(?parcel) AS ?n) (AVG(?area) AS ?avg) WHERE {
  ?parcel a ex:Parcel ; ex:inState ?state ; ex:areaClass ?area .
} GROUP BY ?state"""),
}
_NUMERIC = re.compile(r'^"([^"]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#'
                      r"(?:integer|decimal|double|float|int|long|short|byte|nonNegativeInteger)>$")


# -- the children: one load or one query, printing a JSON line -------------------------------
def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def child_load(tool: str, nt: str, store_dir: str) -> dict:
    start = time.perf_counter()
    if tool == "eolinked":
        from store import load

        load(store_dir, [nt])
    else:
        import pyoxigraph as ox

        st = ox.Store(store_dir)
        st.bulk_load(path=nt, format=ox.RdfFormat.N_TRIPLES)
        st.flush()
        del st
    return {"seconds": time.perf_counter() - start, "bytes": dir_bytes(Path(store_dir))}


def child_query(tool: str, store_dir: str, name: str) -> dict:
    """eolinked: open, first and warm second run; Oxigraph: open, one run (results materialised)."""
    text = PREFIXES + QUERIES[name][1]
    start = time.perf_counter()
    if tool == "eolinked":
        from store import Store

        st = Store(store_dir)
        opened, times = time.perf_counter() - start, []
        for _ in range(2):
            t0 = time.perf_counter()
            res = st.query(text)
            times.append(time.perf_counter() - t0)
        cols = [res.table.column(i).to_pylist() for i in range(res.table.num_columns)]
        rows = list(zip(*cols)) if cols else []
        st.close()
    else:
        import pyoxigraph as ox

        st = ox.Store.read_only(store_dir)
        opened = time.perf_counter() - start
        t0 = time.perf_counter()
        solutions = list(st.query(text))
        times = [time.perf_counter() - t0]
        rows = [tuple(None if t is None else str(t) for t in sol) for sol in solutions]
    return {"open": opened, "times": times, **summary(rows)}


def summary(rows: list[tuple]) -> dict:
    """Row count, a digest of the sorted normalised rows, and the first rows (sorted)."""
    def norm(term):
        if term is None:
            return ""
        m = _NUMERIC.match(term)
        return f"{float(m.group(1)):.9g}" if m else term

    lines = sorted("\t".join(norm(t) for t in row) for row in rows)
    return {"count": len(lines), "digest": hashlib.sha1("\n".join(lines).encode()).hexdigest(), "head": lines[:3]}


def child_reference(triples: str, seed: str) -> dict:
    """The expected row count of every query, computed with numpy and shapely STRtree from the
    generator's features (geometries round-tripped through the written WKT)."""
    import numpy as np
    import shapely

    feats, tags = geographica.build(int(triples), int(seed))
    tag = {t: i for i, t in enumerate(geographica.TAGS)}
    geoms = {k: shapely.from_wkt(shapely.to_wkt(d["geoms"], rounding_precision=geographica.PRECISION))
             for k, d in feats.items()}
    window = shapely.from_wkt(geographica.window_wkt(0.01))
    parcel, poi = feats["parcel"], feats["poi"]
    museum = poi["category"] == geographica.CATEGORIES.index("museum")
    state_common = tags["state"][parcel["inState"][poi["inParcel"]]] == tag["common"]
    counts = {
        "Q1": sum(int(shapely.intersects(g, window).sum()) for g in geoms.values()),
        "Q2": shapely.STRtree(geoms["road"]).query(geoms["parcel"][tags["parcel"] == tag["rare"]],
                                                   predicate="intersects").shape[1],
        "Q3": shapely.STRtree(geoms["state"]).query(geoms["poi"][tags["poi"] == tag["common"]],
                                                    predicate="within").shape[1],
        "Q4": int((museum & state_common).sum()),
        "Q5": len(np.unique(parcel["inState"])),
    }
    return counts


# -- the driver --------------------------------------------------------------------------------
def spawn(args: list[str], timeout: float) -> dict:
    """Run ``this script --child ...`` in its own process group; kill the group on timeout."""
    cmd = [sys.executable, __file__, "--child", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException as e:  # the time limit, or Ctrl-C: the child is in its own session
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            return {"timeout": timeout}
        raise
    if proc.returncode != 0:
        lines = err.strip().splitlines() or [f"exit code {proc.returncode}"]
        return {"error": lines[-1][:160]}
    return json.loads(out.strip().splitlines()[-1])


def dataset(triples: int, seed: int, data: Path) -> tuple[Path, dict]:
    """The cached N-Triples file of a scale and its description (generated when missing)."""
    stem = f"geographica_{triples}_s{seed}_v{geographica.VERSION}"
    nt, meta = data / f"{stem}.nt", data / f"{stem}.json"
    if not (nt.exists() and meta.exists()):
        data.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps(geographica.generate(triples, nt, seed)))
    return nt, json.loads(meta.read_text())


def _secs(r: dict, key: str = "seconds", i: int = 0) -> str:
    if "timeout" in r:
        return f">{r['timeout']:.0f} s"
    if "error" in r:
        return "" if r["error"] == "skipped" else "failed"
    value = r[key][i] if key == "times" else r[key]
    return f"{value:.3f}" if value < 100 else f"{value:.1f}"


def _ratio(eo: dict, ox: dict, key: str) -> str:
    first = (lambda r: r["times"][0]) if key == "times" else (lambda r: r[key])
    if "error" in eo or "timeout" in eo or "error" in ox:
        return ""
    if "timeout" in ox:
        return f">{ox['timeout'] / max(first(eo), 1e-6):.1f}x"
    return f"{first(ox) / max(first(eo), 1e-6):.2f}x"


def _check(eo: dict, ox: dict, expected: int | None) -> str:
    """Both sides' rows agree, and the row count matches the shapely reference."""
    notes = []
    if "count" in eo and "count" in ox:
        if eo["count"] != ox["count"]:
            notes.append(f"COUNTS DIFFER (eolinked {eo['count']:,}, oxigraph {ox['count']:,})")
        else:
            notes.append("same rows" if eo["digest"] == ox["digest"] else "ROWS DIFFER")
    if expected is not None:
        got = {t: r["count"] for t, r in (("eolinked", eo), ("oxigraph", ox)) if "count" in r}
        wrong = [f"{t} {n:,}" for t, n in got.items() if n != expected]
        notes.append(f"REFERENCE {expected:,} vs " + ", ".join(wrong) if wrong else "= reference" if got else "")
    return "; ".join(n for n in notes if n)


def bench(triples: int, args) -> None:
    nt, meta = dataset(triples, args.seed, Path(args.data))
    f = meta["features"]
    print(f"\n### {meta['triples']:,} triples (target {triples:,}): {f['parcel']:,} parcels, {f['state']:,} states, "
          f"{f['road']:,} roads, {f['poi']:,} POIs; N-Triples {meta['bytes'] / 2**20:,.0f} MiB, "
          f"generated in {meta['seconds']:.1f} s\n")
    stores = {tool: Path(args.data) / f"{tool}_{triples}" for tool in ("eolinked", "oxigraph")}
    res: dict[str, dict] = {}
    ref = spawn(["reference", str(triples), str(args.seed)], args.load_timeout) if args.reference else {}
    for tool in ("eolinked", "oxigraph"):
        if tool in args.tools:
            shutil.rmtree(stores[tool], ignore_errors=True)
            res[tool, "load"] = spawn(["load", tool, str(nt), str(stores[tool])], args.load_timeout)
    for q in args.queries:
        for tool in ("eolinked", "oxigraph"):
            if tool in args.tools:
                ok = "seconds" in res[tool, "load"]
                timeout = args.peer_timeout if tool == "oxigraph" else args.timeout
                res[tool, q] = spawn(["query", tool, str(stores[tool]), q], timeout) if ok else {"error": "not loaded"}
    skipped = {"error": "skipped"}
    print("| step | eolinked s | eolinked warm s | oxigraph s | oxigraph / eolinked | rows | results |")
    print("|---|---:|---:|---:|---:|---:|---|")
    eo, ox = res.get(("eolinked", "load"), skipped), res.get(("oxigraph", "load"), skipped)
    print(f"| load | {_secs(eo)} |  | {_secs(ox)} | {_ratio(eo, ox, 'seconds')} | {meta['triples']:,} triples |  |")
    for q in args.queries:
        eo, ox = res.get(("eolinked", q), skipped), res.get(("oxigraph", q), skipped)
        count = eo.get("count", ox.get("count"))
        warm = _secs(eo, "times", 1) if "times" in eo else ""
        cells = [_secs(eo, "times"), warm, _secs(ox, "times"), _ratio(eo, ox, "times"),
                 f"{count:,}" if count is not None else "", _check(eo, ox, ref.get(q))]
        print(f"| {q} {QUERIES[q][0]} | " + " | ".join(cells) + " |")
    sizes = {t: res[t, "load"]["bytes"] for t in ("eolinked", "oxigraph") if "bytes" in res.get((t, "load"), {})}
    if sizes:
        print("\nstore size on disk: " + ", ".join(f"{t} {b / 2**20:,.0f} MiB" for t, b in sizes.items()))
    for q in args.queries:
        eo, ox = res.get(("eolinked", q), {}), res.get(("oxigraph", q), {})
        if "digest" in eo and "digest" in ox and eo["digest"] != ox["digest"]:
            print(f"{q} first rows: eolinked {eo['head']}, oxigraph {ox['head']}")
    failed = [f"{t} {s}: {r['error']}" for (t, s), r in res.items() if "error" in r and r["error"] != "not loaded"]
    if "error" in ref or "timeout" in ref:
        failed.append(f"shapely reference: {ref.get('error', 'timed out')}")
    for line in failed:
        print(f"failed: {line}")
    if not args.keep_stores:
        for path in stores.values():
            shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, nargs="+", default=[1_000_000, 10_000_000], help="dataset scales")
    ap.add_argument("--peer-timeout", type=float, default=600, help="seconds per Oxigraph query")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per eolinked query (both runs)")
    ap.add_argument("--load-timeout", type=float, default=7200, help="seconds per load")
    ap.add_argument("--tools", nargs="+", default=["eolinked", "oxigraph"], choices=["eolinked", "oxigraph"])
    ap.add_argument("--queries", nargs="+", default=list(QUERIES), choices=list(QUERIES))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", default=str(DATA), help="where datasets are cached and stores built")
    ap.add_argument("--keep-stores", action="store_true", help="leave the loaded stores in --data")
    ap.add_argument("--no-reference", dest="reference", action="store_false",
                    help="skip the shapely reference row counts")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        run = {"load": child_load, "query": child_query, "reference": child_reference}[kind]
        print(json.dumps(run(*rest)))
        return
    import platform

    import pyarrow
    import pyoxigraph
    import shapely

    print(f"store benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, pyarrow {pyarrow.__version__}, shapely {shapely.__version__} "
          f"(GEOS {shapely.geos_version_string}), pyoxigraph {pyoxigraph.__version__}; times in seconds")
    print("\n" + "\n".join(f"- {q}: {d}" for q, (d, _) in QUERIES.items() if q in args.queries))
    for triples in args.triples:
        bench(triples, args)


if __name__ == "__main__":
    main()

"""eolinked interlinking (all nine relations) vs shapely, SedonaDB and DuckDB spatial joins.

Datasets: OSM extracts (buildings x landuse, buildings x highways; Liechtenstein and Andorra) and
generated ones (``--features`` star-shaped "buildings" x a mix of "parcels" and "roads" in a
square sized for a constant density, about 4 candidate pairs per feature). Each dataset is
written once to Parquet (id + WKB, invalid geometries repaired as eolinked would) in
benchmarks/data, and every tool reads the same files in a fresh process of its own:

- eolinked: ``interlink(..., relations="all", processes=2)``, nothing written (the main venv),
  also with 1 process and on Spark ``local[2]`` (best of two runs: the first warms the JVM up);
- shapely: ``STRtree.query`` on envelopes + ``shapely.relate`` + the same DE-9IM pattern
  matching, and ``STRtree.query(predicate="intersects")`` (intersects only); one core;
- SedonaDB: a spatial join on ``ST_Intersects`` selecting ``ST_Relate``, and selecting ids only;
- DuckDB spatial: a spatial join on ``ST_Intersects`` (intersects only).

SedonaDB and DuckDB (+ duckdb-extension-spatial) run in the peer venv (``make peers``); both use
both cores. Load time (Parquet, WKB parsing, repairs check) is reported apart from the join time,
which is the best of ``--repeat`` runs (OSM) or one run (generated). The goal: eolinked computing
all relations no slower than the fastest peer computing intersects only.

usage: python benchmarks/interlink.py [--features 1000000] [--no-osm] [--no-generated]
           [--peer-python .venv-peers/bin/python] [--timeout 1200] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
OSM = HERE.parent.parent / "shared" / "data" / "osm"
PEER_PYTHON = HERE.parent / ".venv-peers" / "bin" / "python"
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # `import interlink` is the package, not this file

# tool -> (what it computes, runs in the peer venv, intersects only)
TOOLS = {
    "eolinked": ("all 9 relations (DE-9IM), 2 processes", False, False),
    "eolinked-1": ("all 9 relations (DE-9IM), 1 process", False, False),
    "eolinked-spark": ("all 9 relations (DE-9IM), Spark local[2]", False, False),
    "shapely-relate": ("STRtree + relate + patterns, 1 core", False, False),
    "sedonadb-relate": ("join ST_Intersects, ST_Relate", True, False),
    "shapely-intersects": ("STRtree.query(predicate='intersects')", False, True),
    "sedonadb-intersects": ("join ST_Intersects, ids", True, True),
    "duckdb-intersects": ("join ST_Intersects, ids", True, True),
}


# -- data ------------------------------------------------------------------------------------
def write(path: Path, geoms: np.ndarray, crs: str) -> None:
    """id + WKB geometry, cleaned as ``Features.from_arrays`` does (so every tool sees the same input)."""
    from interlink import Features

    f = Features.from_arrays(pa.array(np.arange(len(geoms)).astype(str)), geoms, crs)
    table = pa.table({"id": np.arange(len(f)), "geometry": pa.array(shapely.to_wkb(f.geoms), pa.binary())})
    pq.write_table(table.replace_schema_metadata({"crs": crs}), path)


def stars(rng, n: int, k: int, r0: float, r1: float, side: float) -> np.ndarray:
    """Star-shaped polygons of ``k`` vertices (valid by construction) with radius in [r0, r1)."""
    centre = rng.random((n, 1, 2)) * side
    angle = (np.arange(k) + 0.1 + 0.8 * rng.random((n, k))) * (2 * np.pi / k) + rng.random((n, 1)) * 2 * np.pi
    radius = (r0 + (r1 - r0) * rng.random((n, 1))) * (0.6 + 0.4 * rng.random((n, k)))
    ring = centre + radius[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    return shapely.polygons(np.concatenate([ring, ring[:, :1]], 1))


def roads(rng, n: int, m: int, step: float, side: float) -> np.ndarray:
    """Random-walk lines of ``m`` vertices, ``step`` metres apart, gently turning."""
    heading = rng.random((n, 1)) * 2 * np.pi + np.cumsum(rng.normal(0, 0.4, (n, m - 1)), 1)
    steps = np.cumsum(step * np.stack([np.cos(heading), np.sin(heading)], -1), 1)
    return shapely.linestrings(rng.random((n, 1, 2)) * side + np.concatenate([np.zeros((n, 1, 2)), steps], 1))


def generated(n: int) -> tuple[Path, Path]:
    """n buildings (8 vertices, 4-12 m) x n targets (half parcels: 12 vertices, 10-40 m; half roads:
    6 vertices, 20 m steps) in EPSG:25832, a 30 km square at n = 1M (same density for any n)."""
    a, b = DATA / f"interlink_buildings_{n}.parquet", DATA / f"interlink_parcels_roads_{n}.parquet"
    if not (a.exists() and b.exists()):
        DATA.mkdir(exist_ok=True)
        rng = np.random.default_rng(42)
        side = 30_000 * np.sqrt(n / 1e6)
        offset = np.array([500_000, 5_200_000])
        write(a, shapely.transform(stars(rng, n, 8, 4, 12, side), lambda c: c + offset), "EPSG:25832")
        targets = np.concatenate([stars(rng, n // 2, 12, 10, 40, side), roads(rng, n - n // 2, 6, 20, side)])
        write(b, shapely.transform(targets[rng.permutation(n)], lambda c: c + offset), "EPSG:25832")
    return a, b


def osm(pbf: str, layer: str, key: str) -> Path:
    """The features of an OSM layer whose ``key`` tag is set (EPSG:4326)."""
    path = DATA / f"interlink_osm_{pbf.split('-')[0]}_{key}.parquet"
    if not path.exists():
        import pyogrio

        DATA.mkdir(exist_ok=True)
        _, t = pyogrio.read_arrow(OSM / f"{pbf}.osm.pbf", layer=layer, columns=[key], where=f"{key} IS NOT NULL")
        write(path, shapely.from_wkb(t.column(t.schema.names[-1]).to_numpy(zero_copy_only=False)), "EPSG:4326")
    return path


# -- the tools, each run by `--run TOOL SOURCE TARGET` in its own process ----------------------------
def _geoms(path: str) -> np.ndarray:
    return shapely.from_wkb(pq.read_table(path, columns=["geometry"]).column(0).to_numpy(zero_copy_only=False))


def _eolinked(a: str, b: str, processes: int, features_only: bool = False):
    import pyarrow.compute as pc

    from interlink import Features, interlink

    def features(path):
        t = pq.read_table(path)
        ids = pc.binary_join_element_wise("http://example.org/f/", pc.cast(t["id"], pa.string()), "")
        return Features.from_arrays(ids.combine_chunks(), _geoms(path), pq.read_schema(path).metadata[b"crs"].decode())

    fa, fb = features(a), features(b)
    if features_only:
        return fa, fb

    def join():
        s = interlink(fa, fb, relations="all", processes=processes, progress=False)
        return s.linked_pairs, s.candidates  # every relation implies sfIntersects: linked = intersecting
    return join


def _eolinked_spark(a: str, b: str):
    """The Spark engine in local[2]; the session starts in the load time, the job's output is
    written to a scratch directory (links must go somewhere on Spark) and removed."""
    import shutil
    import tempfile

    from eolinked.spark import session
    from interlink.spark import interlink_spark

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = session("local[2]", "interlink benchmark", ui=False, conf={"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    fa, fb = _eolinked(a, b, 2, features_only=True)
    scratch = tempfile.mkdtemp(dir=DATA)

    def join():
        s = interlink_spark(fa, fb, f"{scratch}/links.nt", spark=spark)
        shutil.rmtree(f"{scratch}/links.nt")
        return s.linked_pairs, s.candidates
    return join


def _shapely(a: str, b: str, relate: bool):
    from interlink.verify import RELATIONS, holds

    ga, gb = _geoms(a), _geoms(b)

    def join():
        tree = shapely.STRtree(ga)
        if not relate:
            return tree.query(gb, predicate="intersects").shape[1], None
        j, i = tree.query(gb)
        codes = np.asarray(shapely.relate(ga[i], gb[j]), "S9").view(np.uint8).reshape(-1, 9)
        ok = holds(codes, shapely.get_dimensions(ga[i]), shapely.get_dimensions(gb[j]), tuple(RELATIONS))
        return int(ok[:, list(RELATIONS).index("sfIntersects")].sum()), len(i)
    return join


def _sedonadb(a: str, b: str, relate: bool):
    import sedonadb

    con = sedonadb.connect()
    for name, path in (("a", a), ("b", b)):
        con.create_data_frame(pq.read_table(path)).to_view(name + "0")
        con.sql(f"SELECT id, ST_GeomFromWKB(geometry) AS geom FROM {name}0").to_memtable().to_view(name)
    what = "ST_Relate(a.geom, b.geom) AS de9im" if relate else "b.id AS tid"
    query = f"SELECT a.id AS sid, {what} FROM a JOIN b ON ST_Intersects(a.geom, b.geom)"
    return lambda: (pa.table(con.sql(query)).num_rows, None)


def _duckdb(a: str, b: str):
    """DuckDB spatial, installed offline from the duckdb-extension-spatial wheel."""
    import duckdb
    import duckdb_extension_spatial

    ext = next(Path(duckdb_extension_spatial.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    con = duckdb.connect()
    con.execute(f"INSTALL '{ext}'; LOAD spatial")
    for name, path in (("a", a), ("b", b)):
        con.execute(f"CREATE TABLE {name} AS SELECT id, ST_GeomFromWKB(geometry) AS geom FROM read_parquet('{path}')")
    query = "SELECT a.id AS sid, b.id AS tid FROM a JOIN b ON ST_Intersects(a.geom, b.geom)"
    return lambda: (con.sql(query).fetch_arrow_table().num_rows, None)


SETUP = {"eolinked": (_eolinked, 2), "eolinked-1": (_eolinked, 1), "eolinked-spark": (_eolinked_spark,),
         "shapely-relate": (_shapely, True),
         "shapely-intersects": (_shapely, False), "sedonadb-relate": (_sedonadb, True),
         "sedonadb-intersects": (_sedonadb, False), "duckdb-intersects": (_duckdb,)}


def run_tool(tool: str, a: str, b: str, repeat: int) -> dict:
    """Load both files (timed apart), then the best of ``repeat`` joins."""
    start = time.perf_counter()
    setup, *extra = SETUP[tool]
    join = setup(a, b, *extra)
    load = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        pairs, candidates = join()
        best = min(best, time.perf_counter() - start)
    return {"load": load, "join": best, "pairs": pairs, "candidates": candidates}


# -- the driver --------------------------------------------------------------------------------
def measure(tool: str, a: Path, b: Path, args) -> dict:
    python = args.peer_python if TOOLS[tool][1] else sys.executable
    repeat = args.repeat if "osm" in a.name else 2 if tool == "eolinked-spark" else 1  # Spark: a warm-up run
    cmd = [python, __file__, "--run", tool, str(a), str(b), "--repeat", str(repeat)]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": args.timeout}
    except subprocess.CalledProcessError as e:
        return {"error": (e.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(title: str, a: Path, b: Path, args) -> None:
    res = {tool: measure(tool, a, b, args) for tool in TOOLS if tool not in args.skip}
    eo = res.get("eolinked", {}).get("join")
    print(f"\n### {title}: {pq.read_metadata(a).num_rows:,} x {pq.read_metadata(b).num_rows:,} features\n")
    print("| tool | computes | load s | join s | candidates | intersecting pairs | peer / eolinked |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for tool, r in res.items():
        if "join" in r:
            cand = f"{r['candidates']:,}" if r["candidates"] is not None else ""
            ratio = f"{r['join'] / eo:.2f}x" if eo else ""
            cells = [f"{r['load']:.3f}", f"{r['join']:.4f}", cand, f"{r['pairs']:,}", ratio]
        elif "timeout" in r:
            cells = ["", f">{r['timeout']:.0f}", "", "", f">{r['timeout'] / eo:.2f}x" if eo else ""]
        else:
            cells = ["", "failed: " + r["error"], "", "", ""]
        print("| " + " | ".join([tool, TOOLS[tool][0], *cells]) + " |")
    counts = {tool: r["pairs"] for tool, r in res.items() if "pairs" in r}
    same = len(set(counts.values())) == 1
    listed = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    print(f"\ncross-check: intersecting pairs {'agree' if same else 'DIFFER'} ({listed})")
    fast = {t: r.get("join", r.get("timeout")) for t, r in res.items() if TOOLS[t][2]}
    if eo and fast:
        best = min(fast, key=fast.get)
        duck = fast.get("duckdb-intersects")
        print(f"goal (eolinked all relations <= fastest intersects-only peer): "
              f"{'MET' if eo <= fast[best] else 'NOT met'} - eolinked {eo:.4f} s vs {best} {fast[best]:.4f} s"
              + (f"; vs duckdb {duck:.4f} s: {'met' if eo <= duck else 'not met'}" if duck else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=int, default=1_000_000, help="features per side of the generated dataset")
    ap.add_argument("--no-osm", action="store_true")
    ap.add_argument("--no-generated", action="store_true")
    ap.add_argument("--skip", nargs="*", default=[], choices=list(TOOLS), help="tools to leave out")
    ap.add_argument("--peer-python", default=str(PEER_PYTHON))
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per tool and dataset")
    ap.add_argument("--repeat", type=int, default=3, help="join runs per tool on the OSM sets (best is kept)")
    ap.add_argument("--run", nargs=3, metavar=("TOOL", "SOURCE", "TARGET"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        print(json.dumps(run_tool(*args.run, args.repeat)))
        return
    if not os.path.exists(args.peer_python):
        sys.exit(f"no peer python at {args.peer_python}: run `make peers`")
    print(f"interlink benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; join times in seconds")
    if not args.no_osm:
        for pbf, country in (("liechtenstein-2013-08-03", "Liechtenstein"), ("andorra", "Andorra")):
            buildings = osm(pbf, "multipolygons", "building")
            report(f"OSM {country}: buildings x landuse", buildings, osm(pbf, "multipolygons", "landuse"), args)
            report(f"OSM {country}: buildings x highways", buildings, osm(pbf, "lines", "highway"), args)
    if not args.no_generated:
        report("generated: buildings x parcels and roads", *generated(args.features), args)


if __name__ == "__main__":
    main()

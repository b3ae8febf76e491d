"""Progressive interlinking: recall, precision and progressive recall per weighting scheme.

For each dataset pair, every candidate pair (MBRs overlap) is verified once to get the true
links (any of the nine relations), then each scheme's verification order is scored at budgets
of 5, 10, 20 and 50 % of the candidate pairs (definitions in ``interlink/evaluate.py``;
``random`` is a seeded random order, the baseline every scheme should beat). Prints markdown.

Datasets: OSM Liechtenstein landuse x highways and buildings x highways, OSM Andorra buildings
x highways (from ../shared/data/osm), and a generated set of star-shaped polygons x random
line strings (many MBR overlaps without a real intersection).

usage: python benchmarks/progressive.py [--generated 100000] [--processes 2]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]  # the package, not interlink.py

from eolinked.vectorio import read_vector
from interlink import Features, evaluate

SCHEMES = ("cf", "js", "chi2", "mbro", "isp", "chi2*mbro", "js*mbro", "random")
BUDGETS = ("5%", "10%", "20%", "50%")
OSM = ROOT.parent / "shared" / "data" / "osm"


def osm(pbf: Path, layer: str, key: str) -> Features:
    cols = ["osm_id", "osm_way_id", key] if layer == "multipolygons" else ["osm_id", key]
    t = next(read_vector(pbf, layer, cols, batch_size=1 << 20))
    t = t.filter(pc.is_valid(t[key]))
    oid = pc.coalesce(t["osm_id"], pc.binary_join_element_wise("w", t["osm_way_id"], "")) \
        if layer == "multipolygons" else t["osm_id"]
    ids = pc.binary_join_element_wise(f"https://www.openstreetmap.org/{layer}/", oid, "").combine_chunks()
    return Features.from_arrays(ids, shapely.from_wkb(t["geometry"].to_numpy(zero_copy_only=False)), "EPSG:4326",
                                f"{pbf.name}:{key}")


def generated(n: int, seed: int = 1) -> tuple[Features, Features]:
    """Star polygons (10 spikes, radius 0.2-1) and 2-5 vertex line strings, in a 100 x 100 metre-CRS square
    scaled so that each star overlaps a few lines' MBRs."""
    rng = np.random.default_rng(seed)
    side = np.sqrt(n) * 2.0
    centres = rng.uniform(0, side, (n, 2))
    k = np.arange(20)
    radius = np.where(k % 2 == 0, 1.0, 0.35)[None, :] * rng.uniform(0.2, 1.0, (n, 1))
    angle = 2 * np.pi * k / 20 + rng.uniform(0, np.pi, (n, 1))
    rings = np.stack([centres[:, :1] + radius * np.cos(angle), centres[:, 1:] + radius * np.sin(angle)], axis=2)
    stars = shapely.polygons(rings)
    starts = rng.uniform(0, side, (n, 2))
    steps = rng.normal(0, 1.2, (n, 4, 2)).cumsum(axis=1) + starts[:, None, :]
    lines = shapely.linestrings(np.concatenate([starts[:, None, :], steps], axis=1))
    ids = lambda p: pa.array([f"http://ex.org/{p}/{i}" for i in range(n)])
    return (Features.from_arrays(ids("star"), stars, "EPSG:3857", "stars"),
            Features.from_arrays(ids("line"), lines, "EPSG:3857", "lines"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=100_000, help="features per side of the generated set")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    pairs = []
    if OSM.is_dir():
        li, ad = OSM / "liechtenstein-2013-08-03.osm.pbf", OSM / "andorra.osm.pbf"
        li_roads = osm(li, "lines", "highway")
        pairs += [("OSM Liechtenstein landuse x highways", osm(li, "multipolygons", "landuse"), li_roads),
                  ("OSM Liechtenstein buildings x highways", osm(li, "multipolygons", "building"), li_roads),
                  ("OSM Andorra buildings x highways", osm(ad, "multipolygons", "building"), osm(ad, "lines", "highway"))]
    else:
        print(f"(OSM data not found at {OSM}: generated set only)\n")
    pairs.append((f"generated stars x lines ({args.generated:,} each)", *generated(args.generated)))
    import pyogrio
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"pyogrio {pyogrio.__version__}, {args.processes} processes\n")
    for name, source, target in pairs:
        start = time.perf_counter()
        ev = evaluate(source, target, SCHEMES, BUDGETS, processes=args.processes, progress=False)
        print(f"### {name}\n\n{len(source):,} x {len(target):,} features, {ev.candidates:,} candidate pairs, "
              f"{ev.true_links:,} true links ({ev.true_links / max(ev.candidates, 1):.1%} of candidates), "
              f"evaluated in {time.perf_counter() - start:.2f} s\n")
        print(ev.table() + "\n")


if __name__ == "__main__":
    main()

"""A Geographica-style synthetic GeoSPARQL dataset of any size, written as N-Triples.

Inside a fixed lon/lat region (``REGION``, central Europe, CRS84 WKT literals):

- parcels: a hexagon grid tiling the region (``ex:Parcel``; adjacent parcels share their edges
  exactly: every vertex lies on one lattice); ``ex:areaClass`` 1-5, ``ex:inState``;
- states: a coarser hexagon grid clipped to the region and densified (~50 vertices each,
  ``ex:State``, about one per 2,000 parcels), ``ex:population``; each parcel is ``ex:inState`` the
  state holding its centroid;
- roads: random-walk linestrings of 10 vertices crossing ~15 parcels (``ex:Road``, one per 25
  parcels), ``ex:lanes`` 1-4;
- points of interest: one per 4 parcels, each inside a random parcel (``ex:PointOfInterest``,
  ``ex:inParcel``), ``ex:category`` (one of ``CATEGORIES``), ``ex:visitors``.

Every feature has ``rdf:type``, ``rdfs:label`` ("Parcel 17"), ``geo:hasGeometry`` -> a
``geo:Geometry`` with ``geo:asWKT``, and exactly one ``ex:tag`` from ``TAGS``, assigned in exact
quotas per class (1% "rare", 10% "uncommon", 50% "common", the rest "other") so that queries can
pick a selective or a broad thematic filter. The triple count is set by the target (the grid is
sized to it; the result is within about 1% for targets >= 100k); the output depends only on the
target and the seed. Lines are built with Arrow string kernels, WKT with ``shapely.to_wkt`` over
arrays.

usage: python benchmarks/geographica.py --triples 1000000 --out data.nt [--seed 42]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

EX = "http://example.org/geographica/"
GEO = "http://www.opengis.net/ont/geosparql#"
CRS84 = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> "
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
INTEGER = "^^<http://www.w3.org/2001/XMLSchema#integer>"
WKT_TYPE = f"^^<{GEO}wktLiteral>"
REGION = (4.0, 44.0, 16.0, 54.0)  # minx miny maxx maxy (lon/lat)
TAGS = {"rare": 0.01, "uncommon": 0.10, "common": 0.50, "other": 0.39}
CATEGORIES = ("cafe", "school", "hospital", "museum", "park", "shop", "station", "church")
# triples per feature: type, label, tag, hasGeometry, geometry type, asWKT + the class's own
PER_FEATURE = {"parcel": 8, "state": 7, "road": 7, "poi": 9}
PARCELS_PER = {"state": 2000, "road": 25, "poi": 4}
CHUNK = 200_000
VERSION = 1  # of the generated data: bump when the output for a (target, seed) changes
PRECISION = 7  # decimals of WKT coordinates (1 cm)


def window_wkt(fraction: float = 0.01) -> str:
    """A constant query polygon: a regular octagon at the centre of ``REGION`` covering
    ``fraction`` of its area (WKT, coordinates rounded as in the data)."""
    x0, y0, x1, y1 = REGION
    radius = math.sqrt(fraction * (x1 - x0) * (y1 - y0) / (2 * math.sqrt(2)))
    a = np.arange(9) % 8 * (np.pi / 4) + np.pi / 8
    ring = np.stack([(x0 + x1) / 2 + radius * np.cos(a), (y0 + y1) / 2 + radius * np.sin(a)], 1)
    return shapely.to_wkt(shapely.polygons(ring), rounding_precision=PRECISION)


def window(fraction: float = 0.01) -> str:
    """``window_wkt`` as a CRS84 ``geo:wktLiteral`` (N-Triples / SPARQL syntax)."""
    return f'"{CRS84}{window_wkt(fraction)}"{WKT_TYPE}'


# -- geometry ----------------------------------------------------------------------------------
def hex_grid(cols: int, rows: int, r: float, x0: float, y0: float) -> np.ndarray:
    """Flat-topped hexagons of circumradius ``r``, column-major; vertex (i, j) of the lattice is
    at (x0 + i r/2, y0 + j h) with h = r sqrt(3)/2, so neighbours share identical coordinates."""
    c, w = np.divmod(np.arange(cols * rows), rows)
    ci, cj = 3 * c + 2, 2 * w + 1 + c % 2
    di = np.array([2, 1, -1, -2, -1, 1, 2])
    dj = np.array([0, 1, 1, 0, -1, -1, 0])
    x = x0 + (ci[:, None] + di) * (r / 2)
    y = y0 + (cj[:, None] + dj) * (r * math.sqrt(3) / 2)
    return shapely.polygons(np.stack([x, y], -1))


def grid_shape(n: int) -> tuple[int, int, float]:
    """(cols, rows, r) of about ``n`` hexagons fitting ``REGION``."""
    x0, y0, x1, y1 = REGION
    aspect = (x1 - x0) * math.sqrt(3) / (1.5 * (y1 - y0))  # cols / rows for round hexagons
    rows = max(1, round(math.sqrt(n / aspect)))
    cols = max(1, round(n / rows))
    r = min((x1 - x0) / (1.5 * cols + 0.5), (y1 - y0) / ((2 * rows + 1) * math.sqrt(3) / 2))
    return cols, rows, r


def states_grid(n: int) -> np.ndarray:
    """About ``n`` large hexagons covering ``REGION`` (clipped to it), densified to ~8 points an edge."""
    cols, rows, _ = grid_shape(n)
    x0, y0, x1, y1 = REGION
    r = max((x1 - x0) / (1.5 * cols + 0.5), (y1 - y0) / ((2 * rows + 1) * math.sqrt(3) / 2))  # cover
    h = r * math.sqrt(3) / 2
    cells = hex_grid(cols + 2, rows + 2, r, x0 - 2.5 * r, y0 - 2 * h)
    cells = shapely.clip_by_rect(cells, *REGION)
    cells = cells[~shapely.is_empty(cells) & (shapely.area(cells) > 1e-9 * r * r)]
    return shapely.segmentize(cells, r / 8)


def roads(rng: np.random.Generator, n: int, step: float) -> np.ndarray:
    """Random-walk lines of 10 vertices, ``step`` apart, folded back into ``REGION`` at its edges."""
    x0, y0, x1, y1 = REGION
    lo, size = np.array([x0, y0]), np.array([x1 - x0, y1 - y0])
    heading = rng.random((n, 1)) * 2 * np.pi + np.cumsum(rng.normal(0, 0.3, (n, 9)), 1)
    steps = np.cumsum(step * np.stack([np.cos(heading), np.sin(heading)], -1), 1)
    xy = rng.random((n, 1, 2)) * size + np.concatenate([np.zeros((n, 1, 2)), steps], 1) - lo
    xy = np.abs((xy + size) % (2 * size) - size)  # reflect at the region's edges
    return shapely.linestrings(lo + xy)


def quotas(rng: np.random.Generator, n: int, shares: dict[str, float]) -> np.ndarray:
    """Indices into ``shares`` (exactly round(share * n) of each but the last), shuffled."""
    counts = [round(s * n) for s in list(shares.values())[:-1]]
    counts.append(n - sum(counts))
    return np.repeat(np.arange(len(shares)), counts)[rng.permutation(n)]


def sizes(triples: int) -> int:
    """Parcels for a target triple count."""
    per = PER_FEATURE["parcel"] + sum(PER_FEATURE[k] / v for k, v in PARCELS_PER.items())
    return max(1, round(triples / per))


def build(triples: int, seed: int = 42) -> tuple[dict, dict]:
    """The features of every class, {class: {"geoms": ..., property: values}}, and their tags
    {class: indices into ``TAGS``}."""
    rng = np.random.default_rng(seed)
    cols, rows, r = grid_shape(sizes(triples))
    parcels = hex_grid(cols, rows, r, REGION[0], REGION[1])
    n = len(parcels)
    states = states_grid(max(1, n // PARCELS_PER["state"]))
    s_idx, p_idx = shapely.STRtree(states).query(shapely.centroid(parcels), predicate="intersects")[::-1]
    first = np.unique(p_idx, return_index=True)[1]
    assert len(first) == n, "every parcel centroid lies in a state"
    in_state = s_idx[first]

    n_poi, n_road = max(1, n // PARCELS_PER["poi"]), max(1, n // PARCELS_PER["road"])
    in_parcel = rng.integers(0, n, n_poi)
    centre = shapely.get_coordinates(shapely.centroid(parcels))[in_parcel]
    angle, dist = rng.random(n_poi) * 2 * np.pi, np.sqrt(rng.random(n_poi)) * 0.8 * r
    pois = shapely.points(centre + dist[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1))

    lanes = rng.choice(np.arange(1, 5), n_road, p=[0.5, 0.3, 0.15, 0.05])
    features = {
        "parcel": {"geoms": parcels, "areaClass": rng.integers(1, 6, n), "inState": in_state},
        "state": {"geoms": states, "population": rng.integers(10_000, 5_000_000, len(states))},
        "road": {"geoms": roads(rng, n_road, 2.5 * r), "lanes": lanes},
        "poi": {"geoms": pois, "inParcel": in_parcel, "category": rng.integers(0, len(CATEGORIES), n_poi),
                "visitors": np.round(rng.lognormal(7, 1.5, n_poi)).astype(np.int64)},
    }
    return features, {k: quotas(rng, len(d["geoms"]), TAGS) for k, d in features.items()}


# -- N-Triples ---------------------------------------------------------------------------------
CLASSES = {"parcel": "Parcel", "state": "State", "road": "Road", "poi": "PointOfInterest"}
NAMES = {"parcel": "Parcel", "state": "State", "road": "Road", "poi": "POI"}


def _iri(kind: str, ids: np.ndarray, suffix: str = "") -> pa.Array:
    return pc.binary_join_element_wise(f"<{EX}{kind}/", pa.array(ids).cast(pa.string()), f"{suffix}>", "")


def _lit(values, prefix: str = "", suffix: str = "") -> pa.Array:
    text = values if isinstance(values, pa.Array) else pa.array(values).cast(pa.string())
    return pc.binary_join_element_wise(f'"{prefix}', text, f'"{suffix}', "")


def _lines(s, p: str, o) -> pa.Array:
    return pc.binary_join_element_wise(s, p, o, ".\n", " ")


def chunk_lines(kind: str, data: dict, tags: np.ndarray, lo: int, hi: int) -> list[pa.Array]:
    """The N-Triples lines of features ``lo:hi`` of one class, one array per property."""
    ids = np.arange(lo, hi)
    s, g = _iri(kind, ids), _iri(kind, ids, "/geometry")
    wkt = pa.array(shapely.to_wkt(data["geoms"][lo:hi], rounding_precision=PRECISION), pa.string())
    out = [
        _lines(s, RDF_TYPE, f"<{EX}{CLASSES[kind]}>"),
        _lines(s, LABEL, _lit(pa.array(ids).cast(pa.string()), NAMES[kind] + " ")),
        _lines(s, f"<{EX}tag>", pa.array(np.array([f'"{t}"' for t in TAGS])[tags[lo:hi]])),
        _lines(s, f"<{GEO}hasGeometry>", g),
        _lines(g, RDF_TYPE, f"<{GEO}Geometry>"),
        _lines(g, f"<{GEO}asWKT>", _lit(wkt, CRS84, WKT_TYPE)),
    ]
    for prop, values in data.items():
        if prop == "geoms":
            continue
        v = values[lo:hi]
        if prop == "inState":
            o = _iri("state", v)
        elif prop == "inParcel":
            o = _iri("parcel", v)
        elif prop == "category":
            o = pa.array(np.array([f'"{c}"' for c in CATEGORIES])[v])
        else:
            o = _lit(v, suffix=INTEGER)
        out.append(_lines(s, f"<{EX}{prop}>", o))
    return out


def generate(triples: int, out: str | os.PathLike, seed: int = 42) -> dict:
    """Write the dataset to ``out`` (N-Triples; written to a temporary file, then renamed) and
    return its description: triples, bytes, features per class, region, seed, seconds."""
    from eolinked.ntriples import utf8_bytes

    start = time.perf_counter()
    features, tags = build(triples, seed)
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    count = 0
    with open(tmp, "wb", buffering=1 << 22) as fh:
        for kind, data in features.items():
            for lo in range(0, len(data["geoms"]), CHUNK):
                for arr in chunk_lines(kind, data, tags[kind], lo, min(lo + CHUNK, len(data["geoms"]))):
                    fh.write(utf8_bytes(arr))
                    count += len(arr)
    os.replace(tmp, out)
    return {"triples": count, "bytes": out.stat().st_size, "seed": seed, "target": triples,
            "features": {k: len(d["geoms"]) for k, d in features.items()}, "region": REGION,
            "seconds": round(time.perf_counter() - start, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=1_000_000, help="target number of triples")
    ap.add_argument("--out", required=True, help="N-Triples file to write")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    print(json.dumps(generate(args.triples, args.out, args.seed)))


if __name__ == "__main__":
    main()

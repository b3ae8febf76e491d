"""Helpers of the interlink tests: generated datasets with tricky cases, file writers (geo files,
N-Triples, Turtle, Parquet triples), real-data loaders and a brute-force reference."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyogrio
import pyoxigraph as ox
import pyproj
import shapely

from eolinked.literals import wkt_literals
from eolinked.vectorio import read_vector
from eolinked.vocab import GEO, WKT_LITERAL
from interlink import RELATIONS, Features

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
U = 1 / 128  # a cell: exactly representable, so touching cases stay exact
X0, Y0 = 10.0, 47.0


def _box(x, y, w, h):
    return shapely.box(X0 + x * U, Y0 + y * U, X0 + (x + w) * U, Y0 + (y + h) * U)


def _line(*pts):
    return shapely.LineString([(X0 + x * U, Y0 + y * U) for x, y in pts])


def _point(x, y):
    return shapely.Point(X0 + x * U, Y0 + y * U)


def make_synthetic(seed: int = 7) -> tuple[list, list]:
    """(source geometries, target geometries) in CRS84: a tiling of touching squares, lines and points
    on the source side; identical, contained, overlapping, touching, nearly-touching, crossing
    geometries on the target side, plus random boxes, an invalid bowtie and an empty geometry."""
    rng = np.random.default_rng(seed)
    src = [_box(x, y, 4, 4) for x in range(0, 32, 4) for y in range(0, 16, 4)]  # 32 touching squares
    src += [_line((0, 18), (32, 18)), _line((2, 20), (2, 30)), _line((0, 2), (8, 2)), _line((4, 0), (4, 16))]
    src += [_point(4, 4), _point(1, 1), _point(6, 4), _point(40, 40)]
    src += [shapely.Polygon([(X0, Y0 + 24 * U), (X0 + 8 * U, Y0 + 24 * U), (X0 + 8 * U, Y0 + 32 * U),
                             (X0, Y0 + 32 * U)], [[(X0 + 2 * U, Y0 + 26 * U), (X0 + 6 * U, Y0 + 26 * U),
                                                   (X0 + 6 * U, Y0 + 30 * U), (X0 + 2 * U, Y0 + 30 * U)]])]
    src += [shapely.MultiPolygon([_box(40, 0, 2, 2), _box(44, 0, 2, 2)])]
    tgt = [_box(0, 0, 4, 4), _box(4, 4, 4, 4), _box(1, 1, 2, 2), _box(0, 0, 2, 4), _box(2, 2, 4, 4),
           _box(32, 0, 4, 4), _box(32, 0 + 1e-7, 4, 4), _box(32 + 1e-6, 4, 2, 2), _box(-4, -4, 4, 4),
           _box(-4, -4, 4 - 1e-6, 4), _box(0, 0, 32, 16), _box(3, 25, 2, 2), _box(41, 0, 4, 2)]
    tgt += [_line((0, 0), (8, 8)), _line((0, 4), (8, 4)), _line((1, 18), (3, 18)), _line((2, 16), (2, 22)),
            _line((4, -2), (4, 2)), _line((-2, 18), (0, 18)), _line((0, 2), (8, 2)), _line((6, 2), (10, 2))]
    tgt += [_point(4, 4), _point(1, 1), _point(0, 0), _point(2, 18), _point(4, 26), _point(6, 4),
            _point(2, 25), _point(41, 1)]
    tgt += [shapely.Polygon([(X0, Y0), (X0 + 4 * U, Y0 + 4 * U), (X0 + 4 * U, Y0), (X0, Y0 + 4 * U)])]  # bowtie
    tgt += [shapely.from_wkt("POLYGON EMPTY")]
    for _ in range(60):
        x, y = rng.integers(-2, 34), rng.integers(-2, 34)
        w, h = rng.integers(1, 6), rng.integers(1, 6)
        tgt.append(_box(x, y, w, h) if rng.random() < 0.7 else _line((x, y), (x + w, y + h)))
    for _ in range(40):
        tgt.append(_point(rng.integers(0, 34) / 2, rng.integers(0, 34) / 2))
    return src, tgt


def features(geoms, prefix: str, crs="OGC:CRS84", name="mem") -> Features:
    ids = pa.array([f"http://ex.org/{prefix}/{k}" for k in range(len(geoms))], pa.string())
    return Features.from_arrays(ids, np.array(geoms, dtype=object), crs, name)


# -- reference ----------------------------------------------------------------------------------
_SHAPELY = {"sfEquals": shapely.equals, "sfIntersects": shapely.intersects, "sfTouches": shapely.touches,
            "sfWithin": shapely.within, "sfContains": shapely.contains, "sfOverlaps": shapely.overlaps,
            "sfCrosses": shapely.crosses}
_EH = {"ehCovers": "T*TFT*FF*", "ehCoveredBy": "TFF*TFT**"}


def predicate(name, a, b) -> np.ndarray:
    """The relation as GEOS evaluates it, independently of interlink's pattern matching."""
    if name in _SHAPELY:
        return _SHAPELY[name](a, b)
    return shapely.relate_pattern(a, b, _EH[name])


def brute_force(source: Features, target: Features, relations=tuple(RELATIONS)) -> set:
    """{(source IRI, relation name, target IRI)} over the full cross product (no index at all)."""
    a = np.repeat(source.geoms, len(target))
    b = np.tile(target.geoms, len(source))
    si = np.repeat(np.arange(len(source)), len(target))
    ti = np.tile(np.arange(len(target)), len(source))
    sids, tids = np.array(source.ids.to_pylist()), np.array(target.ids.to_pylist())
    out = set()
    for name in relations:
        hit = predicate(name, a, b)
        out |= {(s, name, t) for s, t in zip(sids[si[hit]], tids[ti[hit]])}
    return out


def read_links(path) -> set:
    """{(source, relation local name, target)} from an N-Triples/N-Quads link file."""
    fmt = ox.RdfFormat.N_QUADS if str(path).endswith(".nq") else ox.RdfFormat.N_TRIPLES
    return {(q.subject.value, q.predicate.value.rsplit("#", 1)[-1], q.object.value)
            for q in ox.parse(path=str(path), format=fmt)}


# -- writers -------------------------------------------------------------------------------------
def write_geofile(path: Path, f: Features, crs="OGC:CRS84", driver=None) -> Path:
    """A geo file with an ``id`` attribute (the IRI's last segment) and the geometries."""
    ids = pc.replace_substring_regex(f.ids, r"^.*/", "")
    table = pa.table({"id": ids, "geometry": pa.array(shapely.to_wkb(f.geoms), pa.binary())})
    if str(path).endswith(".parquet"):
        meta = {"version": "1.1.0", "primary_column": "geometry",
                "columns": {"geometry": {"encoding": "WKB", "geometry_types": [],
                                         "crs": pyproj_json(crs)}}}
        pq.write_table(table.replace_schema_metadata({"geo": json.dumps(meta)}), path)
    else:
        pyogrio.write_arrow(table, str(path), geometry_name="geometry", geometry_type="Unknown", crs=crs,
                            driver=driver)
    return path


def pyproj_json(crs):
    return json.loads(pyproj.CRS.from_user_input(crs).to_json())


def rdf_lines(f: Features, crs="OGC:CRS84", geometry_prefix="g") -> pa.Array:
    """N-Triples lines: feature geo:hasGeometry geometry; geometry geo:asWKT literal."""
    lex = wkt_literals(f.geoms, crs)
    lex = pc.replace_substring(pc.replace_substring(lex, "\\", "\\\\"), '"', '\\"')
    geom = pc.binary_join_element_wise(f.ids, f"/{geometry_prefix}", "")
    a = pc.binary_join_element_wise("<", f.ids, f"> <{GEO}hasGeometry> <", geom, "> .\n", "")
    b = pc.binary_join_element_wise("<", geom, f'> <{GEO}asWKT> "', lex, f'"^^<{WKT_LITERAL}> .\n', "")
    return pa.concat_arrays([a, b])


def write_ntriples(path: Path, f: Features, crs="OGC:CRS84", extra: str = "") -> Path:
    path.write_text("".join(rdf_lines(f, crs).to_pylist()) + extra)
    return path


def write_turtle(path: Path, f: Features, crs="OGC:CRS84") -> Path:
    quads = ox.parse("".join(rdf_lines(f, crs).to_pylist()), format=ox.RdfFormat.N_TRIPLES)
    ox.serialize(quads, str(path), format=ox.RdfFormat.TURTLE, prefixes={"geo": GEO})
    return path


def write_parquet_triples(path: Path, f: Features, crs="OGC:CRS84") -> Path:
    terms = [q for q in ox.parse("".join(rdf_lines(f, crs).to_pylist()), format=ox.RdfFormat.N_TRIPLES)]
    pq.write_table(pa.table({"s": [str(q.subject) for q in terms], "p": [str(q.predicate) for q in terms],
                             "o": [str(q.object) for q in terms], "g": [None] * len(terms)}), path)
    return path


# -- real data -----------------------------------------------------------------------------------
def osm_layer(path: Path, layer: str, key: str | None, columns=("osm_id", "osm_way_id"), limit=None) -> Features:
    """Features of an OSM layer whose ``key`` tag is set (all with None), IRIs from the node/way/relation id."""
    cols = list(dict.fromkeys([c for c in columns if c] + ([key] if key else [])))
    t = next(read_vector(path, layer, cols, batch_size=1 << 20))
    if key:
        t = t.filter(pc.is_valid(t[key]))
    if "osm_way_id" in cols:
        oid = pc.coalesce(t["osm_id"], pc.binary_join_element_wise("w", t["osm_way_id"], ""))
    else:
        oid = t["osm_id"]
    ids = pc.binary_join_element_wise(f"https://www.openstreetmap.org/{layer}/", oid, "").combine_chunks()
    geoms = shapely.from_wkb(t["geometry"].to_numpy(zero_copy_only=False))
    f = Features.from_arrays(ids, geoms, "EPSG:4326", f"{path.name}:{layer}:{key}")
    if limit is not None:
        f = Features(f.ids.slice(0, limit), f.geoms[:limit], f.crs, f.name, f.notes)
    return f


def window(f: Features, box) -> Features:
    """The features whose MBR intersects ``box`` (xmin, ymin, xmax, ymax)."""
    b = f.bounds
    keep = (b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])
    return Features(f.ids.filter(pa.array(keep)), f.geoms[keep], f.crs, f.name, f.notes)

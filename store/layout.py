"""On-disk layout of a store: version directories, the CURRENT pointer, and statistics.

``STORE/CURRENT`` names the live version directory (``v0003``); a version holds
``terms.parquet``, ``quads/p<id>.parquet`` (one per predicate with >= :data:`MIN_TABLE`
triples), ``quads/rest.parquet``, ``geometries.parquet`` and ``stats.json``.  Loaders
write ``vNNNN.tmp``, rename it to ``vNNNN`` and then switch CURRENT with ``os.replace``,
so readers always see a complete version.
"""
from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.errors import EolinkedError

CURRENT = "CURRENT"
MIN_TABLE = 1000          # predicates with at least this many triples get their own table
TOP_OBJECTS = 20
HIST_BINS = 20
_VERSION = re.compile(r"^v(\d{4,})$")


@dataclass
class Version:
    """Paths of one store version and its statistics (as in stats.json)."""

    root: Path
    name: str
    terms: Path
    tables: dict[int, Path]        # predicate id -> its own quads table (s, o, g)
    rest: Path                     # s, p, o, g of every other predicate
    geometries: Path
    stats: dict

    def table_of(self, pid: int) -> Path | None:
        """The table holding predicate ``pid`` (its own or rest), None if the store has none of it."""
        if pid in self.tables:
            return self.tables[pid]
        return self.rest if str(pid) in self.stats["predicates"] else None


def version_name(number: int) -> str:
    return f"v{number:04d}"


def version_number(name: str) -> int | None:
    m = _VERSION.match(name)
    return int(m.group(1)) if m else None


def read_current(store_dir) -> str | None:
    """Name of the live version, or None when ``store_dir`` holds no store yet."""
    path = Path(store_dir) / CURRENT
    try:
        name = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if version_number(name) is None or not (Path(store_dir) / name).is_dir():
        raise EolinkedError(f"CURRENT names {name!r}, which is not a version directory of this store",
                            where=str(path), hint="reload the data into a new store directory")
    return name


def write_current(store_dir, name: str) -> None:
    """Point CURRENT at ``name`` atomically (temporary file + fsync + os.replace)."""
    store = Path(store_dir)
    tmp = store / f".{CURRENT}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, store / CURRENT)
    fsync_dir(store)


def fsync_dir(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def versions(store_dir) -> list[str]:
    """Names of the complete version directories in ``store_dir``, oldest first."""
    store = Path(store_dir)
    if not store.is_dir():
        return []
    names = [p.name for p in store.iterdir() if p.is_dir() and version_number(p.name) is not None]
    return sorted(names, key=version_number)


def open_version(store_dir) -> Version:
    """The live version of the store in ``store_dir``."""
    name = read_current(store_dir)
    if name is None:
        raise EolinkedError("no store here (no CURRENT file)", where=str(store_dir),
                            hint="load data first: store.load(store_dir, files)")
    root = Path(store_dir) / name
    stats = read_stats(root)
    tables = {int(pid): root / e["table"] for pid, e in stats["predicates"].items()
              if e["table"] != "quads/rest.parquet"}
    return Version(root, name, root / "terms.parquet", tables, root / "quads" / "rest.parquet",
                   root / "geometries.parquet", stats)


def read_stats(version_dir) -> dict:
    path = Path(version_dir) / "stats.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EolinkedError("the store version has no stats.json", where=str(path),
                            hint="the store is damaged; reload the data") from None


def write_stats(version_dir, stats: dict) -> None:
    (Path(version_dir) / "stats.json").write_text(json.dumps(stats, separators=(",", ":")), encoding="utf-8")


# -- statistics ---------------------------------------------------------------------------
def predicate_stats(p: np.ndarray, s: np.ndarray, o: np.ndarray, num: np.ndarray, table_of) -> dict[str, dict]:
    """Per predicate: count, distinct subjects/objects, top objects and a histogram of numeric objects.

    ``p``, ``s``, ``o`` are int64 term ids of unique triples; ``num`` is the numeric value of
    each term id (NaN when not numeric); ``table_of(pid)`` gives the table path stored.
    """
    if len(p) == 0:
        return {}
    t = pa.table({"p": p, "s": s, "o": o})
    agg = t.group_by("p").aggregate([("s", "count"), ("s", "count_distinct"), ("o", "count_distinct")])
    out = {int(pid): {"table": table_of(int(pid)), "count": int(c), "distinct_s": int(ds), "distinct_o": int(do),
                      "top_o": [], "num_hist": None}
           for pid, c, ds, do in zip(*(agg.column(k).to_numpy() for k in
                                       ("p", "s_count", "s_count_distinct", "o_count_distinct")))}
    po = t.group_by(["p", "o"]).aggregate([("s", "count")])
    pp, oo, cc = (po.column(k).to_numpy() for k in ("p", "o", "s_count"))
    order = np.lexsort((oo, -cc, pp))
    pp, oo, cc = pp[order], oo[order], cc[order]
    start = np.r_[0, np.flatnonzero(np.diff(pp)) + 1]
    rank = np.arange(len(pp)) - np.repeat(start, np.diff(np.r_[start, len(pp)]))
    keep = rank < TOP_OBJECTS
    for pid, oid, c in zip(pp[keep].tolist(), oo[keep].tolist(), cc[keep].tolist()):
        out[pid]["top_o"].append([oid, c])
    values = num[o] if len(num) else np.full(len(o), np.nan)
    numeric = np.isfinite(values)
    if numeric.any():
        pn, vn = p[numeric], values[numeric]
        order = np.argsort(pn, kind="stable")
        pn, vn = pn[order], vn[order]
        cuts = np.r_[0, np.flatnonzero(np.diff(pn)) + 1, len(pn)]
        for a, b in itertools.pairwise(cuts):  # one histogram per predicate with numeric objects
            out[int(pn[a])]["num_hist"] = histogram(vn[a:b])
    return {str(k): v for k, v in out.items()}


def histogram(values: np.ndarray) -> dict:
    """Equi-depth histogram: ``bounds`` (ascending edges) and ``counts`` (one fewer); the last bin is closed."""
    edges = np.unique(np.quantile(values, np.linspace(0, 1, HIST_BINS + 1)))
    if len(edges) == 1:
        return {"bounds": [float(edges[0]), float(edges[0])], "counts": [len(values)]}
    counts, _ = np.histogram(values, bins=edges)
    return {"bounds": edges.tolist(), "counts": counts.tolist()}


def graph_ids(g: pa.Array | np.ndarray) -> set[int]:
    """Distinct non-null graph ids of a column."""
    arr = g if isinstance(g, (pa.Array, pa.ChunkedArray)) else pa.array(g)
    return set(pc.unique(arr.drop_null()).to_pylist())

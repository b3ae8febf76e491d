"""The local engine: read, align CRSs, index the source, stream target batches (or budgeted
candidate pairs) through worker processes, write links atomically.

Workers are forked, so they inherit the datasets and the index; each task is one slice of
the target (exact mode) or of the weighted pair order (progressive mode), and results are
merged in task order, so output is the same for any ``processes``. Small jobs (one batch)
run in-process.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from tqdm import tqdm

from eolinked.errors import EolinkedError
from eolinked.ntriples import utf8_bytes

from . import weighting as wt
from .align import align, lonlat_extent, metres_per_unit
from .distance import crs_spec
from .index import Grid, build_index, make_grid
from .partition import LinkSpec, Verified, verify_pairs
from .readers import Features, read_features
from .verify import matrix_strings, parse_relations
from .writer import (
    AtomicFiles,
    check_outputs,
    distance_lines,
    link_lines,
    open_text,
    write_pairs,
)

DEFAULT_WEIGHTING = "chi2*mbro"
_PAIR_CHUNK = 100_000
_LINE_CHUNK = 500_000


@dataclass
class Job:
    """Everything a worker needs; built once in the parent and inherited by fork."""
    source: Features
    target: Features
    spec: LinkSpec
    grid: Grid
    index: object
    source_bounds: np.ndarray
    target_bounds: np.ndarray  # as queried (grown in distance mode)
    batch_size: int = 20_000
    notes: list[str] = field(default_factory=list)

    def weights(self, scheme: str, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        pts_s, pts_t = shapely.get_num_coordinates(self.source.geoms), shapely.get_num_coordinates(self.target.geoms)
        data = wt.PairData(self.source_bounds[i], self.target_bounds[j], pts_s[i], pts_t[j], i, j)
        return wt.weights(scheme, self.grid, data)


@dataclass
class Summary:
    source_features: int = 0
    target_features: int = 0
    candidates: int = 0
    verified: int = 0
    linked_pairs: int = 0
    triples: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"interlink: {self.source_features:,} source and {self.target_features:,} target features, "
                f"{self.candidates:,} candidate pairs, {self.verified:,} verified, {self.linked_pairs:,} linked pairs, "
                f"{self.triples:,} triples, {self.seconds:.2f} s")


def prepare(source: Features, target: Features, *, relations="all", within_distance: float | None = None,
            index: str | None = "grid", crs=None, batch_size: int = 20_000) -> Job:
    """Align both datasets in one CRS, build the grid and (unless ``index`` is None) the source index."""
    names = parse_relations(relations)
    if within_distance is not None and not (within_distance >= 0 and np.isfinite(within_distance)):
        raise EolinkedError(f"--within-distance must be a distance in metres >= 0, not {within_distance}")
    source, target, common, note = align(source, target, crs)
    notes = [f"{f.name}: {n}" for f in (source, target) for n in f.notes] + ([note] if note else [])
    spec = LinkSpec(names, within_distance, bool(common.is_geographic),
                    1.0 if common.is_geographic else metres_per_unit(common),
                    crs_spec(common) if within_distance is not None else None)
    sb, tb = source.bounds, spec.query_bounds(target.bounds)
    apart = _apart_note(source, target, sb, tb)
    if apart:
        notes.append(apart)
    grid = make_grid(sb, tb)
    return Job(source, target, spec, grid, index and build_index(index, grid, sb), sb, tb, max(1, batch_size), notes)


def _extent(b: np.ndarray) -> tuple[float, float, float, float]:
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _overlap(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _apart_note(source: Features, target: Features, sb: np.ndarray, tb: np.ndarray) -> str | None:
    """A note when the two datasets' extents (the target's grown by the distance) do not overlap:
    then there is no candidate pair at all, which is most often a CRS or axis order mistake."""
    if not len(sb) or not len(tb) or _overlap(_extent(sb), _extent(tb)):
        return None
    es, et = lonlat_extent(source), lonlat_extent(target)

    def text(e):
        return "unknown" if e is None else "lon {:.6g} .. {:.6g}, lat {:.6g} .. {:.6g}".format(e[0], e[2], e[1], e[3])
    swapped = es is not None and et is not None and _overlap(es, (et[1], et[0], et[3], et[2]))
    cause = ("one dataset's coordinates look swapped (latitude first): check its CRS and axis order" if swapped
             else "a wrong CRS or axis order on one side (latitude/longitude swapped, projected coordinates "
                  "read as lon/lat), or datasets of different regions")
    return (f"the datasets' extents do not overlap, so there can be no candidate pairs: source {source.name} "
            f"({text(es)} in CRS84), target {target.name} ({text(et)} in CRS84); likely cause: {cause}")


# -- parallel execution ---------------------------------------------------------------------
_STATE: dict = {}


def _candidates_task(span):
    job = _STATE["job"]
    i, j = job.index.query(job.target_bounds[span[0]:span[1]])
    return i, j + span[0]


def _exact_task(span):
    job = _STATE["job"]
    i, j = _candidates_task(span)
    v = verify_pairs(job.source.geoms, job.target.geoms, i, j, job.spec)
    return len(i), v.take(v.linked)


def _verify_task(span):
    job, i, j = _STATE["job"], _STATE["i"], _STATE["j"]
    return verify_pairs(job.source.geoms, job.target.geoms, i[span[0]:span[1]], j[span[0]:span[1]], job.spec)


def _spans(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(n, a + size)) for a in range(0, n, size)] or [(0, 0)]


def _run(fn, spans, processes: int, progress: bool | None, desc: str, **state) -> list:
    _STATE.update(state)
    bar = {"total": len(spans), "desc": desc, "unit": " batch", "leave": False, "file": sys.stderr,
           "disable": (not sys.stderr.isatty()) if progress is None else not progress}
    try:
        if processes <= 1 or len(spans) <= 1:
            return [fn(s) for s in tqdm(spans, **bar)]
        with ProcessPoolExecutor(min(processes, len(spans)), mp_context=mp.get_context("fork")) as pool:
            try:
                return list(tqdm(pool.map(fn, spans), **bar))
            except BrokenProcessPool:
                raise EolinkedError("a worker process died", hint="run with --processes 1 to see the error") from None
    finally:
        _STATE.clear()


def candidates(job: Job, processes: int = 1, progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All candidate pairs (MBRs overlap), sorted by source then target index."""
    parts = _run(_candidates_task, _spans(len(job.target), job.batch_size), processes, progress, "filter", job=job)
    i, j = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    order = np.lexsort((j, i))
    return i[order], j[order]


def verify(job: Job, i: np.ndarray, j: np.ndarray, processes: int = 1, progress: bool | None = None) -> Verified:
    """Verify the given pairs in their order."""
    parts = _run(_verify_task, _spans(len(i), _PAIR_CHUNK), processes, progress, "verify", job=job, i=i, j=j)
    return Verified.concat(parts, len(job.spec.names))


def link_exact(job: Job, processes: int = 1, progress: bool | None = None) -> tuple[int, Verified]:
    """(number of candidates, linked pairs sorted by source then target index)."""
    parts = _run(_exact_task, _spans(len(job.target), job.batch_size), processes, progress, "link", job=job)
    v = Verified.concat([p[1] for p in parts], len(job.spec.names))
    return sum(p[0] for p in parts), v.take(np.lexsort((v.j, v.i)))


def link_progressive(job: Job, budget, scheme: str, processes: int = 1,
                     progress: bool | None = None) -> tuple[int, int, Verified, np.ndarray]:
    """Weight all candidates, verify the top ``budget`` in descending weight (a global order).

    Returns (candidates, verified, linked pairs in verification order, their weights)."""
    i, j = candidates(job, processes, progress)
    w = job.weights(scheme, i, j)
    order = wt.order(w, i, j)[:wt.budget_pairs(budget, len(i))]
    v = verify(job, i[order], j[order], processes, progress)
    linked = v.linked
    return len(i), len(order), v.take(linked), w[order][linked]


# -- the whole run ---------------------------------------------------------------------------
def interlink(source, target, output: str | None = None, *, source_id: str | None = None,
              target_id: str | None = None, source_layer=None, target_layer=None, relations="all",
              within_distance: float | None = None, distance_value: bool = False, index: str = "grid",
              budget=None, weighting: str | None = None, graph: str | None = None, pairs: str | None = None,
              processes: int | None = None, batch_size: int = 20_000, crs=None,
              progress: bool | None = None) -> Summary:
    """Discover links from ``source`` to ``target`` (paths or :class:`Features`) and write them.

    Exact mode verifies every candidate pair; with ``budget`` and/or ``weighting`` the
    candidates are verified in descending weight until the budget is spent.
    """
    start = time.perf_counter()
    check_outputs(output, pairs)
    if graph and output and output.lower().removesuffix(".gz").endswith((".nt", ".ntriples")):
        raise EolinkedError("N-Triples has no graph", where=output, hint="name the output .nq to write --graph")
    scheme = None
    if budget is not None or weighting:
        scheme = wt.parse_weightings(weighting or DEFAULT_WEIGHTING)
        if len(scheme) > 1 or (budget is not None and len(wt.parse_budgets(budget)) > 1):
            raise EolinkedError("several weightings or budgets are for --evaluate",
                                hint="give one --weighting and one --budget, or add --evaluate")
        scheme = scheme[0]
        budget = "100%" if budget is None else budget
        wt.budget_pairs(budget, 0)
    src = source if isinstance(source, Features) else read_features(source, source_id, source_layer, "--source-id")
    tgt = target if isinstance(target, Features) else read_features(target, target_id, target_layer, "--target-id")
    job = prepare(src, tgt, relations=relations, within_distance=within_distance, index=index, crs=crs,
                  batch_size=batch_size)
    processes = processes or os.cpu_count() or 1
    summary = Summary(len(job.source), len(job.target), notes=job.notes)
    weights = None
    if scheme is None:
        summary.candidates, v = link_exact(job, processes, progress)
        summary.verified = summary.candidates
    else:
        summary.candidates, summary.verified, v, weights = link_progressive(job, budget, scheme, processes, progress)
    summary.linked_pairs = len(v.i)
    with AtomicFiles() as files:
        if output:
            summary.triples = _write_links(files.path(output), output, job, v, graph, distance_value)
        if pairs:
            write_pairs(pairs, files.path(pairs), pairs_table(job, v, weights))
    summary.seconds = time.perf_counter() - start
    return summary


def _write_links(tmp: str, output: str, job: Job, v: Verified, graph: str | None, distance_value: bool) -> int:
    count = 0
    preds = pa.array(job.spec.predicates, pa.string())
    with open_text(tmp, output) as fh:
        for a in range(0, len(v.i), _LINE_CHUNK):
            part = v.take(slice(a, a + _LINE_CHUNK))
            s, t = job.source.ids.take(pa.array(part.i)), job.target.ids.take(pa.array(part.j))
            if job.spec.distance is not None and distance_value:
                lines = distance_lines(s, t, part.distance, part.i, part.j, graph)
            else:
                rows, cols = np.nonzero(part.holds)
                lines = link_lines(s.take(pa.array(rows)), preds.take(pa.array(cols)), t.take(pa.array(rows)), graph)
            fh.write(utf8_bytes(lines))
            count += len(lines)
    return count


def pairs_table(job: Job, v: Verified, weights: np.ndarray | None = None) -> pa.Table:
    """Linked pairs: source, target, DE-9IM and relation names (or distance), weight if progressive."""
    cols = {"source": job.source.ids.take(pa.array(v.i)), "target": job.target.ids.take(pa.array(v.j))}
    if v.codes is not None:
        cols["de9im"] = pa.array(matrix_strings(v.codes), pa.string())
        names = np.array(job.spec.names, dtype=object)
        k = np.nonzero(v.holds)[1]
        lists = pa.ListArray.from_arrays(np.concatenate([[0], np.cumsum(v.holds.sum(1))]).astype(np.int32),
                                         pa.array(names[k], pa.string()))
        cols["relations"] = pc.binary_join(lists, " ")
    if v.distance is not None:
        cols["distance_m"] = pa.array(v.distance)
    if weights is not None:
        cols["weight"] = pa.array(weights)
    return pa.table(cols)

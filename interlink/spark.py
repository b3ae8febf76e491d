"""The Spark engine of interlink.

Both datasets are read and brought into one CRS on the driver, as the local engine does. A
quad-tree built from a sample of MBR centres cuts the extent into leaves; every geometry goes to
each leaf its MBR overlaps (target MBRs grown by the distance margin in distance mode); Spark
co-groups source and target by leaf, and each leaf is linked by the local engine's code (grid or
STRtree filter, one DE-9IM matrix per pair), keeping a pair only in the leaf that holds its
reference point, so every pair is verified and written once. Progressive mode weights the
candidates of every leaf against the global grid, takes the global top N in Spark, and verifies
those pairs.
"""
from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import shapely

from eolinked import spark as sparklib
from eolinked.errors import EolinkedError

from . import quadtree
from . import weighting as wt
from .index import build_index, make_grid
from .partition import Verified, verify_pairs
from .readers import Features, read_features
from .runner import DEFAULT_WEIGHTING, Job, Summary, prepare
from .writer import distance_lines, link_lines

SAMPLE = 20_000  # MBR centres the quad-tree is built from
_FEATURES = "leaf long, idx long, geometry binary"
_PAIRS = "i long, j long, w double"
_LINKS = "i long, j long, holds long, codes string, distance double"


def interlink_spark(source, target, output: str, *, source_id=None, target_id=None, source_layer=None,
                    target_layer=None, relations="all", within_distance=None, distance_value=False,
                    index: str = "grid", budget=None, weighting: str | None = None, graph: str | None = None,
                    crs=None, partitions: int | None = None, spark=None, master: str | None = None,
                    conf: dict | None = None) -> Summary:
    """Link ``source`` to ``target`` on Spark; ``output`` becomes a directory of part files."""
    start = time.perf_counter()
    fmt, gzip = _output_format(output, graph)
    scheme = None
    if budget is not None or weighting:
        scheme = wt.parse_weightings(weighting or DEFAULT_WEIGHTING)
        if len(scheme) > 1 or "random" in scheme[0]:
            raise EolinkedError("the Spark engine takes one weighting scheme, not random",
                                hint="e.g. --weighting chi2*mbro (random is an evaluation baseline)")
        scheme, budget = scheme[0], "100%" if budget is None else budget
        wt.budget_pairs(budget, 0)
    src = source if isinstance(source, Features) else read_features(source, source_id, source_layer, "--source-id")
    tgt = target if isinstance(target, Features) else read_features(target, target_id, target_layer, "--target-id")
    job = prepare(src, tgt, relations=relations, within_distance=within_distance, index=None, crs=crs)
    spark = spark or sparklib.session(master, "eolinked interlink", conf)
    leaves = _leaves(job, partitions or 4 * spark.sparkContext.defaultParallelism)
    summary = Summary(len(job.source), len(job.target), notes=job.notes)
    sc = spark.sparkContext
    candidates, triples = sc.accumulator(0), sc.accumulator(0)
    cached = []
    try:
        frames = _frames(spark, job, leaves)
        shared = sc.broadcast((job.spec, job.grid, index, leaves, scheme))
        if scheme is None:
            links = _exact(frames, shared, candidates)
        else:
            links, summary.candidates, summary.verified, pairs = _progressive(spark, job, frames, shared, budget)
            cached.append(pairs)
        links = links.cache()
        cached.append(links)
        with sparklib.Progress(spark, "interlink"), sparklib.OutputDir(spark, output, fmt, gzip) as out:
            out.write(_lines(spark, job, links, graph, distance_value, triples))
        summary.linked_pairs = links.count()
        if scheme is None:
            summary.candidates = summary.verified = candidates.value
        summary.triples = triples.value
    except EolinkedError:
        raise
    except Exception as exc:
        error = sparklib.job_error(exc)
        raise (error or EolinkedError(f"the Spark job failed: {str(exc).strip().splitlines()[0][:500]}")) from None
    finally:
        for frame in cached:
            frame.unpersist()
    summary.seconds = time.perf_counter() - start
    return summary


def _output_format(output: str, graph: str | None) -> tuple[str, bool]:
    name = output.rstrip("/")
    gzip = name.endswith(".gz")
    ext = name.removesuffix(".gz").rsplit(".", 1)[-1].lower()
    if ext not in ("nt", "nq"):
        raise EolinkedError("the Spark engine writes links as a directory of .nt or .nq part files", where=output,
                            hint="name the output links.nt (or links.nq with --graph), optionally .gz")
    if graph and ext == "nt":
        raise EolinkedError("N-Triples has no graph", where=output, hint="name the output .nq to write --graph")
    return ext, gzip


def _leaves(job: Job, wanted: int) -> np.ndarray:
    """Quad-tree leaves from a sample of source and target MBR centres (fixed seed)."""
    bounds = np.concatenate([job.source_bounds, job.target_bounds])
    rng = np.random.default_rng(0)
    sample = bounds[rng.choice(len(bounds), min(SAMPLE, len(bounds)), replace=False)] if len(bounds) else bounds
    return quadtree.build(quadtree.extent(job.source_bounds, job.target_bounds), quadtree.centres(sample), wanted)


def _frames(spark, job: Job, leaves: np.ndarray):
    """Source and target rows (leaf, feature number, WKB) for every leaf each MBR overlaps."""
    out = []
    for feats, bounds in ((job.source, job.source_bounds), (job.target, job.target_bounds)):
        leaf, row = quadtree.assign(leaves, bounds)
        wkb = pa.array(shapely.to_wkb(feats.geoms), pa.binary())
        table = pa.table({"leaf": pa.array(leaf, pa.int64()), "idx": pa.array(row, pa.int64()),
                          "geometry": wkb.take(pa.array(row))})
        out.append(spark.createDataFrame(table).repartition(len(leaves), "leaf"))
    return out


def _leaf_pairs(shared, s: pa.Table, t: pa.Table):
    """Candidate pairs of one leaf whose reference point lies in it: (global i, j, local arrays)."""
    spec, _, index, leaves, _ = shared.value
    if not s.num_rows or not t.num_rows:
        return None
    box = leaves[s.column("leaf")[0].as_py()]
    sg = shapely.from_wkb(s.column("geometry").to_numpy(zero_copy_only=False))
    tg = shapely.from_wkb(t.column("geometry").to_numpy(zero_copy_only=False))
    sb, tb = shapely.bounds(sg), spec.query_bounds(shapely.bounds(tg))
    a, b = build_index(index, make_grid(sb, tb), sb).query(tb)
    rx, ry = np.maximum(sb[a, 0], tb[b, 0]), np.maximum(sb[a, 1], tb[b, 1])
    keep = (rx >= box[0]) & (rx < box[2]) & (ry >= box[1]) & (ry < box[3])
    a, b = a[keep], b[keep]
    return s.column("idx").to_numpy()[a], t.column("idx").to_numpy()[b], sg, tg, sb, tb, a, b


def _exact(frames, shared, candidates):
    def link(s: pa.Table, t: pa.Table):
        found = _leaf_pairs(shared, s, t)
        if found is None:
            return _links_schema().empty_table()
        i, j, sg, tg, _, _, a, b = found
        candidates.add(len(a))
        return _links_table(verify_pairs(sg, tg, a, b, shared.value[0]), i, j)

    source, target = frames
    return source.groupBy("leaf").cogroup(target.groupBy("leaf")).applyInArrow(link, _LINKS)


def _progressive(spark, job: Job, frames, shared, budget):
    """Weights of every candidate against the global grid; the global top N verified."""
    pts_s = shapely.get_num_coordinates(job.source.geoms)
    pts_t = shapely.get_num_coordinates(job.target.geoms)
    points = spark.sparkContext.broadcast((pts_s, pts_t))

    def weigh(s: pa.Table, t: pa.Table):
        found = _leaf_pairs(shared, s, t)
        if found is None:
            return pa.schema([("i", pa.int64()), ("j", pa.int64()), ("w", pa.float64())]).empty_table()
        i, j, _, _, sb, tb, a, b = found
        ps, pt = points.value
        data = wt.PairData(sb[a], tb[b], ps[i], pt[j], i, j)
        _, grid, _, _, scheme = shared.value
        return pa.table({"i": i, "j": j, "w": wt.weights(scheme, grid, data)})

    from pyspark.sql import functions as F

    source, target = frames
    pairs = source.groupBy("leaf").cogroup(target.groupBy("leaf")).applyInArrow(weigh, _PAIRS).cache()
    total = pairs.count()
    n = wt.budget_pairs(budget, total)
    top = pairs.orderBy(F.desc("w"), "i", "j").limit(n) if n else pairs.limit(0)
    geoms = [f.select(F.col("idx").alias(k), F.col("geometry").alias(f"g{k}")).dropDuplicates([k])
             for f, k in zip(frames, "ij")]
    chosen = top.join(geoms[0], "i").join(geoms[1], "j")

    def verify(batches):
        spec = shared.value[0]
        for rb in batches:
            sg = shapely.from_wkb(rb.column("gi").to_numpy(zero_copy_only=False))
            tg = shapely.from_wkb(rb.column("gj").to_numpy(zero_copy_only=False))
            k = np.arange(rb.num_rows)
            table = _links_table(verify_pairs(sg, tg, k, k, spec), rb.column("i").to_numpy(), rb.column("j").to_numpy())
            yield from table.to_batches()

    return chosen.mapInArrow(verify, _LINKS), total, n, pairs


def _links_schema() -> pa.Schema:
    return pa.schema([("i", pa.int64()), ("j", pa.int64()), ("holds", pa.int64()), ("codes", pa.string()),
                      ("distance", pa.float64())])


def _links_table(v: Verified, i: np.ndarray, j: np.ndarray) -> pa.Table:
    """Linked pairs: global feature numbers, the relations that hold as a bit mask, DE-9IM, distance."""
    from .verify import matrix_strings

    linked = v.linked
    v = v.take(linked)
    mask = (v.holds.astype(np.int64) << np.arange(v.holds.shape[1], dtype=np.int64)).sum(axis=1)
    codes = pa.array(matrix_strings(v.codes), pa.string()) if v.codes is not None else pa.nulls(len(mask), pa.string())
    dist = pa.array(v.distance, pa.float64()) if v.distance is not None else pa.nulls(len(mask), pa.float64())
    return pa.table([pa.array(i[linked], pa.int64()), pa.array(j[linked], pa.int64()), pa.array(mask, pa.int64()),
                     codes, dist], schema=_links_schema())


def _lines(spark, job: Job, links, graph, distance_value, triples):
    """Link triples, written in the tasks with the features' IRIs (broadcast)."""
    ids = spark.sparkContext.broadcast((job.source.ids, job.target.ids, job.spec.predicates,
                                        job.spec.distance is not None and distance_value))

    def lines(batches):
        s_ids, t_ids, predicates, reified = ids.value
        preds = pa.array(predicates, pa.string())
        for rb in batches:
            i, j = rb.column("i").to_numpy(), rb.column("j").to_numpy()
            s, t = s_ids.take(pa.array(i)), t_ids.take(pa.array(j))
            if reified:
                out = distance_lines(s, t, rb.column("distance").to_numpy(zero_copy_only=False), i, j, graph)
            else:
                holds = (rb.column("holds").to_numpy()[:, None] >> np.arange(len(predicates))) & 1
                rows, cols = np.nonzero(holds)
                out = link_lines(s.take(pa.array(rows)), preds.take(pa.array(cols)), t.take(pa.array(rows)), graph)
            if len(out):
                triples.add(len(out))
                yield pa.RecordBatch.from_arrays([sparklib.pack_lines(out)], ["value"])

    return links.mapInArrow(lines, sparklib.LINE_SCHEMA)

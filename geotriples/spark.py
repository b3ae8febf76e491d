"""The Spark engine: the mapping is parsed once on the driver and broadcast; every partition runs the
local engine's vectorised executor on Arrow batches (``mapInArrow``). Referencing object maps with
join conditions (or a parent of another source) become Spark joins; nothing else shuffles.

How inputs are split (never one task per file, except where the format cannot be split):
- CSV and JSON Lines: Spark's text reader (any Hadoop file system), a task per file split;
- GeoParquet: Spark's Parquet reader, a task per split;
- Shapefile, GeoPackage, FlatGeobuf, GeoJSON (GDAL): feature ranges read on the executors;
- classification GeoTIFFs: strips of rows polygonised on the executors; regions cut by strip
  borders are merged afterwards, so the output equals the local engine's;
- JSON documents, gzip files and CSV in another encoding than UTF-8 cannot be split: one task.

Record numbers (row references, fresh blank nodes) are exact: when a mapping needs them, a first,
cheap pass counts the records of every split; otherwise messages number records within a split.
"""
from __future__ import annotations

import copy
import itertools
import pickle
import time
from abc import ABC, abstractmethod
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from eolinked import spark as sparklib
from eolinked.errors import EolinkedError
from eolinked.ntriples import utf8_bytes
from eolinked.vectorio import as_feature_table

from .executor import Executor, Options, parent_refs, required_refs
from .geometry import INVALID_POLICIES
from .model import Mapping, RefObjectMap
from .parser import load_mapping
from .runner import Summary, merge_report, open_sources, parse_crs
from .sources import ROW_REFS, is_uri, open_source
from .sources.csv import CsvSource
from .sources.json import JsonSource
from .sources.raster import RasterSource, merge_strips, strip_regions
from .sources.vector import VectorSource

OUTPUTS = {"nt": "N-Triples", "nq": "N-Quads", "parquet": "Parquet triples (s, p, o, g)"}
LINE_SCHEMA = sparklib.LINE_SCHEMA


def transform_spark(mapping_path: str, output: str, *, fmt: str | None = None,
                    overrides: dict[str, str] | None = None, base_iri: str | None = None,
                    target_crs: str | None = None, source_crs: str | None = None, invalid: str = "repair",
                    batch_size: int = 65536, partitions: int | None = None, spark=None,
                    master: str | None = None, conf: dict[str, str] | None = None) -> Summary:
    """Run the RML mapping as a Spark job; ``output`` becomes a directory of part files."""
    start = time.perf_counter()
    if invalid not in INVALID_POLICIES:
        raise EolinkedError(f"unknown --invalid policy {invalid!r}", hint=f"choose {', '.join(INVALID_POLICIES)}")
    mapping = load_mapping(mapping_path, base_iri)
    fmt, gzip = output_format(output, fmt)
    options = Options(base_iri=mapping.base_iri, invalid=invalid, quads=fmt != "nt", batch_size=batch_size,
                      target_crs=parse_crs(target_crs))
    spark = spark or sparklib.session(master, "eolinked transform", conf)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_size))
    parts = partitions or 2 * spark.sparkContext.defaultParallelism
    try:
        return _run(spark, mapping, options, output, fmt, gzip, overrides or {}, parse_crs(source_crs),
                    parts, start)
    except EolinkedError:
        raise
    except Exception as exc:
        error = sparklib.job_error(exc)
        if error is None:
            raise EolinkedError(f"the Spark job failed: {str(exc).strip().splitlines()[0][:500]}",
                                hint="see the Spark log above for the failing stage") from exc
        raise error from None


def output_format(output: str, fmt: str | None) -> tuple[str, bool]:
    """(nt | nq | parquet, gzip?) from --format or the output name."""
    if output == "-":
        raise EolinkedError("the Spark engine writes a directory, not standard output",
                            hint="give -o a path, e.g. -o out.nt (a directory of part files)")
    name = output.rstrip("/")
    gzip = name.endswith(".gz")
    ext = name.removesuffix(".gz").rsplit(".", 1)[-1].lower() if "." in name else ""
    fmt = fmt or {"nt": "nt", "ntriples": "nt", "nq": "nq", "nquads": "nq", "parquet": "parquet"}.get(ext)
    if fmt not in OUTPUTS:
        raise EolinkedError(f"the Spark engine cannot write {output!r}",
                            hint="name the output .nt, .nq (optionally .gz) or .parquet, or pass --format nt|nq|parquet")
    if gzip and fmt == "parquet":
        raise EolinkedError("Parquet output is compressed already", where=output, hint="drop the .gz")
    return fmt, gzip


def _run(spark, mapping: Mapping, options: Options, output, fmt, gzip, overrides, source_crs, parts, start):
    sc = spark.sparkContext
    executor = Executor(mapping, options)
    inputs = open_sources(mapping, overrides,
                          lambda ls, path: _input(spark, ls, path, source_crs, parts, options.batch_size))
    for tm in mapping.triples_maps.values():
        inputs[tm.id].source.check(sorted(required_refs(mapping, tm)), tm.name)
        inputs[tm.id].check_rows(mapping, tm)
        if _needs_numbers(mapping, tm):
            inputs[tm.id].numbered = True
    joins = [(tm, om) for tm in mapping.triples_maps.values() for pom in tm.poms for om in pom.objects
             if executor.needs_parent_index(om, tm)]
    for tm, om in joins:
        parent = mapping.triples_maps[om.parent]
        if isinstance(inputs[tm.id], _RasterStrips) or isinstance(inputs[parent.id], _RasterStrips):
            raise EolinkedError(f"triples map {tm.name} joins raster regions, which the Spark engine does not do",
                                where=inputs[tm.id].source.path, hint="run this mapping with the local engine")
        inputs[parent.id].source.check(sorted(parent_refs(parent, om)), parent.name)
    job = sc.broadcast((executor, {tm_id: i.source for tm_id, i in inputs.items()}))
    counts = sc.accumulator((0, 0), _PairParam())  # (records read, triples written)
    report = sc.accumulator({}, _ReportParam())
    observed = sc.accumulator({}, _DictParam())  # what tasks saw: raster strip states, JSON references matched
    frames, by_input = [], {}
    for tm in mapping.triples_maps.values():  # one pass per input runs every triples map reading it
        by_input.setdefault(id(inputs[tm.id]), (inputs[tm.id], []))[1].append(tm.id)
    for inp, tm_ids in by_input.values():
        refs = sorted(set().union(*(required_refs(mapping, mapping.triples_maps[t]) for t in tm_ids)) - ROW_REFS)
        frames.append(inp.frame(spark).mapInArrow(_lines_task(job, tm_ids, inp, refs, counts, report, observed),
                                                  LINE_SCHEMA))
    for tm, om in joins:
        frames.append(_join_frame(spark, job, mapping, tm, om, inputs, counts))
    summary = Summary(output, fmt)
    summary.notes = sorted({i.source.note for i in inputs.values() if getattr(i.source, "note", None)})
    with sparklib.Progress(spark, "transform"), sparklib.OutputDir(spark, output, fmt, gzip) as out:
        out.write(reduce(lambda a, b: a.unionByName(b), frames))
        for merged in _merged_regions(spark, job, inputs, mapping, observed.value, counts, report):
            out.write(merged)
        for i in {id(i): i for i in inputs.values()}.values():
            i.finish(observed.value)
    summary.records, summary.triples = counts.value
    summary.report = dict(report.value)
    summary.seconds = time.perf_counter() - start
    return summary


# -- inputs: how Spark reads each logical source ------------------------------------------------
def _input(spark, ls, path, source_crs, parts, batch_size):
    kind = ls.formulation
    encoding = (ls.option("encoding") or "utf-8").replace("_", "-").lower()
    utf8 = encoding in ("utf-8", "utf8")
    if kind == "csv" and (utf8 or is_uri(path)):
        if not utf8:
            raise EolinkedError(f"CSV in {encoding} can be read from local paths only", where=path,
                                hint="convert the file to UTF-8 or copy it to a path every executor shares")
        return _CsvText(spark, path, ls, source_crs)
    if kind == "jsonpath" and path.lower().removesuffix(".gz").endswith(
            (".jsonl", ".ndjson", ".geojsonl", ".geojsons")) and utf8:
        return _JsonLines(spark, path, ls, source_crs)
    if kind not in ("csv", "jsonpath", "raster") and path.lower().endswith((".parquet", ".geoparquet")):
        return _Parquet(spark, path, ls, source_crs)
    if is_uri(path) and not path.startswith("file://"):
        raise EolinkedError(f"{kind} sources are read by GDAL on the executors, which cannot open this URI",
                            where=path, hint="put the file on a path every executor shares (or a GDAL /vsis3/ "
                                             "/vsicurl/ path), or convert it to GeoParquet")
    source = open_source(ls, path, source_crs)
    if isinstance(source, RasterSource):
        return _RasterStrips(source, parts)
    return _Tasks(source, parts, batch_size)


class _Input(ABC):
    """A logical source as Spark reads it: a DataFrame of raw data, and the batches a task makes of it."""

    source = None

    @abstractmethod
    def frame(self, spark):
        """The DataFrame whose Arrow batches the tasks read."""

    @abstractmethod
    def batches(self, source, arrow_batches, refs, batch_size, observed):
        """Batches (records with one column per reference) of one task's Arrow batches."""

    def check_rows(self, mapping, tm) -> None:
        """Inputs whose record numbers are only known after the job refuse row references."""

    def finish(self, flags: dict) -> None:
        """Checks that need what every task saw (the local engine's end-of-source checks)."""


def _task_partition() -> int:
    from pyspark import TaskContext

    return TaskContext.get().partitionId()


class _Split(_Input):
    """Inputs Spark's own readers split. When a triples map needs record numbers (row references,
    blank nodes without a template), a first pass counts the records of every split; otherwise
    messages number records within the split, which the path then names."""

    numbered = False  # set before frame() when record numbers are needed

    def __init__(self, spark, path):
        self.path = sparklib.spark_path(path)
        self._offsets = None
        _check_exists(spark, self.path)

    @abstractmethod
    def raw(self, spark):
        """Spark's reader over the file, with the split's first byte as the last column ``__start``."""

    @abstractmethod
    def count_records(self, spark) -> dict:
        """{partition: (first byte, records, lines)}"""

    def frame(self, spark):
        if self.numbered and self._offsets is None:
            counts = self.count_records(spark)
            self._offsets, records, lines = {}, 0, 0
            for pid, (_, n_records, n_lines) in sorted(counts.items(), key=lambda kv: kv[1][0]):
                self._offsets[pid] = (records, lines)
                records += n_records
                lines += n_lines
        return self.raw(spark)

    def _partition_counts(self, frame, records_expr, lines_expr):
        from pyspark.sql import functions as F

        rows = (frame.groupBy(F.spark_partition_id().alias("pid"))
                .agg(F.min("__start").alias("start"), records_expr.alias("records"), lines_expr.alias("lines"))
                .collect())
        return {r.pid: (r.start, int(r.records or 0), int(r.lines or 0)) for r in rows}

    def start(self, source, arrow_batches):
        """(source for messages, records before the split, lines before it, the batches again)."""
        first = next(arrow_batches, None)
        batches = itertools.chain([first] if first is not None else [], arrow_batches)
        if self._offsets is not None:
            return (source, *self._offsets.get(_task_partition(), (0, 0)), batches)
        if first is not None and len(first) and first.column(first.num_columns - 1)[0].as_py():
            source = copy.copy(source)
            source.path = f"{source.path} (the split from byte {first.column(first.num_columns - 1)[0].as_py()})"
        return source, 0, 0, batches


class _CsvText(_Split):
    def __init__(self, spark, path, ls, source_crs):
        super().__init__(spark, path)
        self.source = CsvSource(path, ls.option("delimiter"), "utf8", ls.option("null"))
        if source_crs is not None:
            self.source.crs = source_crs
        first = spark.read.text(self.path).limit(1).collect()
        self.header = first[0].value.encode() if first else b""
        self.source._names = pcsv.read_csv(pa.BufferReader(self.header + b"\n"), parse_options=pcsv.ParseOptions(
            delimiter=self.source.delimiter)).schema.names if self.header.strip() else []

    def raw(self, spark):
        from pyspark.sql import functions as F

        return spark.read.text(self.path).withColumn("__start", F.input_file_block_start())

    def count_records(self, spark):
        from pyspark.sql import functions as F

        frame = self.raw(spark)
        nonempty = F.sum((F.length("value") > 0).cast("long"))
        header = F.max((F.col("__start") == 0).cast("long"))
        return self._partition_counts(frame, nonempty - header, F.count(F.lit(1)))

    def batches(self, source, arrow_batches, refs, batch_size, observed):
        source, offset, _, arrow_batches = self.start(source, arrow_batches)
        first = True
        for rb in arrow_batches:
            lines = rb.column(0)
            if first and len(lines) and rb.column(1)[0].as_py() == 0:
                nonempty = pc.indices_nonzero(pc.greater(pc.utf8_length(lines), 0))
                if len(nonempty):  # the header: the split's first non-empty line
                    lines = lines.slice(nonempty[0].as_py() + 1)
            first = first and not len(rb)
            lines = pc.filter(lines, pc.greater(pc.utf8_length(lines), 0))
            if not len(lines):
                continue
            data = self.header + b"\n" + bytes(utf8_bytes(pc.binary_join_element_wise(lines, "\n", "")))
            for batch in source.parse(data, refs, offset, batch_size):
                yield batch
                offset += batch.table.num_rows


class _JsonLines(_Split):
    def __init__(self, spark, path, ls, source_crs):
        super().__init__(spark, path)
        self.source = JsonSource(path, ls.iterator, "utf-8")
        if source_crs is not None:
            self.source.crs = source_crs

    def raw(self, spark):
        from pyspark.sql import functions as F

        return spark.read.text(self.path).withColumn("__start", F.input_file_block_start())

    def count_records(self, spark):
        source = self.source

        def count(arrow_batches):
            records = lines = 0
            start = None
            for rb in arrow_batches:
                if start is None and len(rb):
                    start = rb.column(1)[0].as_py()
                records += sum(1 for _ in source.line_records(rb.column(0).to_pylist(), lines + 1))
                lines += len(rb)
            yield pa.RecordBatch.from_pydict({"pid": [_task_partition()], "start": [start or 0],
                                              "records": [records], "lines": [lines]})

        rows = self.raw(spark).mapInArrow(count, "pid long, start long, records long, lines long").collect()
        return {r.pid: (r.start, r.records, r.lines) for r in rows}

    def batches(self, source, arrow_batches, refs, batch_size, observed):
        source, offset, line, arrow_batches = self.start(source, arrow_batches)
        matched = dict.fromkeys(set(refs), False)
        for rb in arrow_batches:
            records = source.line_records(rb.column(0).to_pylist(), line + 1)
            for batch in source.record_batches(records, refs, batch_size, offset, matched):
                yield batch
                offset += batch.table.num_rows
            line += len(rb)
        observed.add({("matched", r): ok for r, ok in matched.items()})

    def finish(self, flags):
        self.source.check_matched({key[1]: ok for key, ok in flags.items() if key[0] == "matched"})


class _Parquet(_Split):
    def __init__(self, spark, path, ls, source_crs):
        super().__init__(spark, path)
        self.source = VectorSource(path.removeprefix("file://") if path.startswith("file://") else path, ls.layer)
        if self.source.crs is None and source_crs is not None:
            self.source.crs = source_crs

    def raw(self, spark):
        from pyspark.sql import functions as F

        frame = spark.read.parquet(self.path)
        names = list(self.source.info.fields) + [self.source.info.geometry_name]
        return frame.select(*[F.col(f"`{n}`") for n in names]).withColumn("__start", F.input_file_block_start())

    def count_records(self, spark):
        from pyspark.sql import functions as F

        return self._partition_counts(self.raw(spark).select("__start"), F.count(F.lit(1)), F.count(F.lit(1)))

    def batches(self, source, arrow_batches, refs, batch_size, observed):
        source, offset, _, arrow_batches = self.start(source, arrow_batches)
        attrs = source.attributes(refs)
        for rb in arrow_batches:
            table = as_feature_table(pa.Table.from_batches([rb]), source.info.geometry_name, attrs)
            yield source.batch(table, refs, offset)
            offset += table.num_rows


class _Tasks(_Input):
    """Sources read by the executors themselves: feature ranges (GDAL), or the whole file in one task."""

    def __init__(self, source, parts, batch_size):
        self.source = source
        self.specs = source.partitions(parts, batch_size) or [None]

    def frame(self, spark):
        return spark.range(len(self.specs), numPartitions=len(self.specs))

    def batches(self, source, arrow_batches, refs, batch_size, observed):
        for rb in arrow_batches:
            for i in rb.column(0).to_pylist():
                spec = self.specs[i]
                yield from (source.batches(refs, batch_size) if spec is None
                            else source.read_partition(spec, refs, batch_size))


class _RasterStrips(_Input):
    """Strips of rows polygonised apart; regions cut by strip borders are merged after the job."""

    def __init__(self, source: RasterSource, parts):
        self.source = source
        height = source.info.height
        step = max(1, -(-height // max(1, parts)))
        self.cuts = list(range(0, height, step)) + [height]

    def check_rows(self, mapping, tm):
        if _needs_numbers(mapping, tm):
            raise EolinkedError(f"triples map {tm.name} numbers raster regions by row, which the Spark engine "
                                "cannot know before all strips are merged", where=self.source.path,
                                hint="use the region id (the 'region' reference) for subjects and blank nodes")

    def frame(self, spark):
        n = len(self.cuts) - 1
        return spark.range(n, numPartitions=n)

    def batches(self, source, arrow_batches, refs, batch_size, observed):
        for rb in arrow_batches:
            for i in rb.column(0).to_pylist():
                table, state = strip_regions(source.path, source.band, self.cuts[i], self.cuts[i + 1])
                observed.add({(source.path, source.band, i): pickle.dumps(state)})
                if table is not None:
                    for piece in table.to_batches(batch_size):
                        yield source.batch(pa.Table.from_batches([piece]), refs, 0)


def _needs_numbers(mapping, tm) -> bool:
    """Does the output of ``tm`` depend on record numbers (row references, fresh blank nodes)?"""
    return bool(required_refs(mapping, tm) & ROW_REFS) or _has_row_blank_nodes(tm)


def _has_row_blank_nodes(tm) -> bool:
    maps = [tm.subject, *tm.graphs] + [m for pom in tm.poms for m in (*pom.objects, *pom.graphs)
                                       if not isinstance(m, RefObjectMap)]
    return any(getattr(m, "kind", None) == "blank" for m in maps)


def _check_exists(spark, path) -> None:
    fs, hpath = sparklib.hadoop_fs(spark, path)
    if not fs.exists(hpath):
        raise EolinkedError("source file not found", where=path,
                            hint="check rml:path in the mapping (relative to the mapping file), or -s NAME=PATH")


# -- tasks ------------------------------------------------------------------------------------
def _lines_task(job, tm_ids, inp: _Input, refs, counts, report, observed):
    """The task of a pass over one input: every triples map reading it, on each batch."""
    def run(arrow_batches):
        executor, sources = job.value
        executor.options.report.clear()
        tms, source = [executor.mapping.triples_maps[t] for t in tm_ids], sources[tm_ids[0]]
        for batch in inp.batches(source, arrow_batches, refs, executor.options.batch_size, observed):
            for tm in tms:
                lines = executor.lines(tm, source, batch, defer_joins=True)
                counts.add((batch.table.num_rows, sum(map(len, lines))))
                yield from _packed(lines)
        report.add(dict(executor.options.report))
    return run


def _packed(lines: list[pa.Array]):
    """Record batches of a few long strings, each many whole lines joined by newlines (without the
    last): the JVM then handles a row per few megabytes instead of a row per triple."""
    for arr in lines:
        if len(arr):
            yield pa.RecordBatch.from_arrays([sparklib.pack_lines(arr)], ["value"])


def _strip_newline(arr: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(arr, 0, -1)


def _join_frame(spark, job, mapping, tm, om: RefObjectMap, inputs, counts):
    """Lines of a referencing object map with a parent index: child templates joined to parent keys."""
    from pyspark.sql import functions as F

    parent = mapping.triples_maps[om.parent]
    keys = [f"k{i}" for i in range(len(om.joins))]
    child_refs = sorted(required_refs(mapping, tm) - ROW_REFS)
    parent_ref_list = sorted(parent_refs(parent, om) - ROW_REFS)
    child_in, parent_in = inputs[tm.id], inputs[parent.id]
    unobserved = spark.sparkContext.accumulator({}, _DictParam())

    def templates(arrow_batches):
        executor, sources = job.value
        executor.options.report.clear()
        source = sources[tm.id]
        for batch in child_in.batches(source, arrow_batches, child_refs, executor.options.batch_size, unobserved):
            t = executor.join_templates(tm, om, source, batch)
            t = t.set_column(t.num_columns - 1, "suffix", _strip_newline(t.column("suffix").combine_chunks()))
            yield from t.to_batches()

    def parents(arrow_batches):
        executor, sources = job.value
        source = sources[parent.id]
        for batch in parent_in.batches(source, arrow_batches, parent_ref_list, executor.options.batch_size,
                                       unobserved):
            yield from executor.parent_keys(om, parent, source, batch).to_batches()

    key_schema = "".join(f"{k} string, " for k in keys)
    child = child_in.frame(spark).mapInArrow(templates, key_schema + "prefix string, suffix string")
    parents_df = parent_in.frame(spark).mapInArrow(parents, key_schema + "__subject string")
    joined = child.join(parents_df, keys, "inner") if keys else child.crossJoin(parents_df)
    lines = joined.select(F.concat("prefix", "__subject", "suffix").alias("value"))

    def pack(arrow_batches):
        for rb in arrow_batches:
            counts.add((0, rb.num_rows))
            yield from _packed([pc.binary_join_element_wise(rb.column(0), "\n", "")])

    return lines.mapInArrow(pack, LINE_SCHEMA)


def _merged_regions(spark, job, inputs, mapping, observed: dict, counts, report):
    """After the job: regions cut by strip borders, merged and transformed (one frame per raster map)."""
    executor, _ = job.value
    for tm in mapping.triples_maps.values():
        inp = inputs[tm.id]
        if not isinstance(inp, _RasterStrips):
            continue
        src = inp.source
        states = [pickle.loads(observed[(src.path, src.band, i)]) for i in range(len(inp.cuts) - 1)]
        table = merge_strips(src.path, states)
        if table is None or not table.num_rows:
            continue
        refs = sorted(required_refs(mapping, tm) - ROW_REFS)
        executor.options.report.clear()
        lines = [a for piece in table.to_batches(executor.options.batch_size)
                 for a in executor.lines(tm, src, src.batch(pa.Table.from_batches([piece]), refs, 0),
                                         defer_joins=True)]
        counts.add((table.num_rows, sum(map(len, lines))))
        report.add(dict(executor.options.report))
        packed = [rb.column(0) for rb in _packed(lines)]
        yield spark.createDataFrame(pa.table({"value": pa.concat_arrays(packed) if packed else pa.array([], pa.string())}))


# -- accumulators ------------------------------------------------------------------------------
def _accumulator_param():
    from pyspark.accumulators import AccumulatorParam

    return AccumulatorParam


class _PairParam(_accumulator_param()):
    def zero(self, value):
        return (0, 0)

    def addInPlace(self, a, b):
        return (a[0] + b[0], a[1] + b[1])


class _ReportParam(_accumulator_param()):
    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        merge_report(a, b)
        return a


class _DictParam(_accumulator_param()):
    """Dicts merged: ("matched", reference) flags are or-ed, other keys (raster strips) set."""

    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        for key, value in b.items():
            a[key] = (a.get(key, False) or value) if key[0] == "matched" else value
        return a


def main(argv=None) -> int:
    """spark-submit entry point: the arguments of ``eolinked transform`` (the engine is Spark)."""
    from eolinked.cli import run

    from .cli import transform_parser

    return run(transform_parser(spark_submit=True), argv)


"""The local engine: run a mapping over its sources into one output file, on N processes."""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from tqdm import tqdm

from eolinked import vocab
from eolinked.crs import as_crs
from eolinked.errors import EolinkedError
from eolinked.ntriples import utf8_bytes

from .executor import Executor, Options, required_refs
from .geometry import INVALID_POLICIES
from .model import Mapping, RefObjectMap
from .parser import load_mapping
from .sources import ROW_REFS, open_source, resolve_path
from .sources.base import Batch
from .writer import TripleWriter, format_for

_MAPPING_NS = (vocab.RML, vocab.RR, vocab.RML_LEGACY, vocab.QL, vocab.FNML, vocab.FNO, vocab.RRX, vocab.RRXF)


@dataclass
class Summary:
    output: str
    format: str
    records: int = 0
    triples: int = 0
    seconds: float = 0.0
    report: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = self.triples / self.seconds if self.seconds else 0.0
        text = (f"wrote {self.triples:,} triples from {self.records:,} records to {self.output} "
                f"({self.format}) in {self.seconds:.1f} s ({rate:,.0f} triples/s)")
        for key in ("repair", "skip"):
            if self.report.get(key):
                verb = "repaired" if key == "repair" else "skipped"
                text += (f"; {verb} {self.report[key]} invalid geometries "
                         f"(first at record {self.report['first_invalid_record']})")
        if self.report.get("unreadable"):
            text += (f"; skipped {self.report['unreadable']} unreadable geometries "
                     f"(first at record {self.report['first_unreadable_record']})")
        if self.report.get("invalid_iri"):
            text += f"; left out {self.report['invalid_iri']} invalid IRIs (legacy RML data errors)"
        return text


def transform(mapping_path: str, output: str, *, fmt: str | None = None,
              overrides: dict[str, str] | None = None, base_iri: str | None = None,
              target_crs: str | None = None, source_crs: str | None = None, invalid: str = "repair",
              processes: int = 1, batch_size: int = 65536, progress: bool | None = None) -> Summary:
    """Run the RML mapping at ``mapping_path`` and write its triples to ``output``."""
    start = time.perf_counter()
    if invalid not in INVALID_POLICIES:
        raise EolinkedError(f"unknown --invalid policy {invalid!r}", hint=f"choose {', '.join(INVALID_POLICIES)}")
    mapping = load_mapping(mapping_path, base_iri)
    fmt = format_for(output, fmt)
    options = Options(base_iri=mapping.base_iri, invalid=invalid, quads=fmt in ("nq",),
                      batch_size=batch_size,
                      target_crs=parse_crs(target_crs), prefixes=mapping_prefixes(mapping) if fmt == "ttl" else {})
    crs = parse_crs(source_crs)
    sources = open_sources(mapping, overrides or {}, lambda ls, path: open_source(ls, path, crs))
    executor = Executor(mapping, options)
    for tm in mapping.triples_maps.values():
        sources[tm.id].check(sorted(required_refs(mapping, tm)), tm.name)
    prepare_joins(mapping, executor, sources)
    summary = Summary(output, fmt)
    for note in dict.fromkeys(getattr(s, "note", None) for s in sources.values()):  # in mapping order, once
        if note is not None:
            summary.notes.append(note)
    with TripleWriter(output, fmt, options.prefixes) as writer:
        for tm in mapping.triples_maps.values():
            summary.records += _run_map(executor, tm, sources[tm.id], writer, processes, progress)
    summary.triples = writer.count
    summary.seconds = time.perf_counter() - start
    summary.report = options.report
    return summary


def parse_crs(text):
    if not text:
        return None
    try:
        return as_crs(text)
    except EolinkedError:
        raise
    except Exception as exc:  # pyproj's CRSError
        raise EolinkedError(f"unknown CRS {text!r}: {exc}", hint="use e.g. EPSG:4326, OGC:CRS84 or a CRS IRI") from None


def mapping_prefixes(mapping: Mapping) -> dict[str, str]:
    out = dict(vocab.PREFIXES)
    for prefix, ns in mapping.prefixes.items():
        if prefix and not ns.startswith(_MAPPING_NS):
            out[prefix] = ns
    return out


def open_sources(mapping: Mapping, overrides, opener) -> dict:
    """{triples map id: opener(logical source, path)}, one opened reader per distinct source."""
    base = os.path.dirname(os.path.abspath(mapping.path))
    opened, by_ls = {}, {}
    for tm in mapping.triples_maps.values():
        path = resolve_path(tm.source, base, overrides)
        key = (tm.source, path)
        if key not in by_ls:
            by_ls[key] = opener(tm.source, path)
        opened[tm.id] = by_ls[key]
    return opened


def prepare_joins(mapping: Mapping, executor: Executor, sources) -> None:
    for tm in mapping.triples_maps.values():
        for pom in tm.poms:
            for om in pom.objects:
                if isinstance(om, RefObjectMap) and (om.joins or mapping.triples_maps[om.parent].source != tm.source):
                    parent = mapping.triples_maps[om.parent]
                    src = sources[parent.id]
                    src.check(sorted({r for _, pm in om.joins for r in pm.references}
                                     | set(parent.subject.references)), parent.name)
                    executor.build_parent_index(om, parent, src)


# -- parallel execution: workers inherit the executor by fork ---------------------
_WORKER: dict = {}


def _work_partition(task):
    """Read one partition of a source, transform it, and write its lines to a part file."""
    tm_id, spec, refs, part_path = task
    executor, source = _WORKER["executor"], _WORKER["source"]
    executor.options.report.clear()
    tm = executor.mapping.triples_maps[tm_id]
    count = records = 0
    with open(part_path, "wb", buffering=1 << 22) as fh:
        for batch in source.read_partition(spec, refs, executor.options.batch_size):
            for arr in executor.lines(tm, source, batch):
                fh.write(utf8_bytes(arr))
                count += len(arr)
            records += batch.table.num_rows
    return part_path, count, records, dict(executor.options.report)


def _work_batch(task):
    """Transform one batch read by the parent (sources that cannot be split)."""
    tm_id, table, offset, types = task
    executor, source = _WORKER["executor"], _WORKER["source"]
    executor.options.report.clear()
    arrays = executor.lines(executor.mapping.triples_maps[tm_id], source, Batch(table, offset, types))
    data = b"".join(bytes(utf8_bytes(a)) for a in arrays)
    return data, sum(len(a) for a in arrays), table.num_rows, dict(executor.options.report)


def _run_map(executor, tm, source, writer, processes, progress) -> int:
    refs = sorted(required_refs(executor.mapping, tm) - ROW_REFS)
    total = getattr(source, "feature_count", None)
    bar = tqdm(total=total, unit=" rec", desc=tm.name[:30], disable=(not sys.stderr.isatty()) if progress is None
               else not progress, file=sys.stderr, leave=False)
    records = 0
    try:
        specs = source.partitions(processes * 2, executor.options.batch_size) if processes > 1 else None
        if processes <= 1 or (specs is not None and len(specs) < 2):
            for batch in source.batches(refs, executor.options.batch_size):
                writer.write(executor.lines(tm, source, batch))
                records += batch.table.num_rows
                bar.update(batch.table.num_rows)
            return records
        _WORKER.update(executor=executor, source=source)
        if specs is None:
            tasks = ((_work_batch, (tm.id, b.table, b.offset, b.types))
                     for b in source.batches(refs, executor.options.batch_size))
        else:
            tasks = ((_work_partition, (tm.id, spec, refs, writer.part_path(i))) for i, spec in enumerate(specs))
        with ProcessPoolExecutor(processes, mp_context=mp.get_context("fork")) as pool:
            pending: deque = deque()
            try:
                for fn, task in tasks:  # at most 2 tasks per process in flight: memory stays bounded
                    pending.append(pool.submit(fn, task))
                    while len(pending) >= 2 * processes or (pending and pending[0].done()):
                        records += _collect(pending.popleft().result(), writer, bar, executor)
                while pending:
                    records += _collect(pending.popleft().result(), writer, bar, executor)
            except BrokenProcessPool:
                raise EolinkedError(f"a worker process died while transforming triples map {tm.name}",
                                    where=source.path, hint="run with --processes 1 to see the error") from None
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return records
    finally:
        bar.close()


def _collect(result, writer, bar, executor) -> int:
    data, count, n, report = result
    if isinstance(data, bytes):
        writer.write_bytes(data, count)
    else:
        writer.append_part(data, count)
    bar.update(n)
    merge_report(executor.options.report, report)
    return n


def merge_report(into: dict, part: dict) -> None:
    for key, value in part.items():
        if key.startswith("first_"):  # first_invalid_record, first_unreadable_record
            into[key] = min(into.get(key, value), value)
        else:
            into[key] = into.get(key, 0) + value

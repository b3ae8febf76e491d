"""Run triples maps over source batches: subjects, classes, predicate-object maps, joins.

Each batch becomes Arrow arrays of N-Triples / N-Quads lines; no Python loop per record.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked import vocab

from .geometry import GeometryColumn
from .model import Mapping, RefObjectMap, TriplesMap
from .sources.base import ROW_REFS, Batch, Source
from .terms import Context, raw_values, term_values
from .values import Values, align, combine, constant, to_sparse
from .writer import abbreviate

RDF_TYPE = f"<{vocab.RDF_TYPE}>"
DEFAULT_GRAPH = f"<{vocab.RML}defaultGraph>"
_MARK = "\x00"  # brackets a child row number where a deferred join's parent subject goes
_CUT = "(?s)^(?P<prefix>.*)\x00(?P<row>[0-9]+)\x00(?P<suffix>.*)$"


@dataclass
class Options:
    base_iri: str = "http://example.com/base/"
    target_crs: object = None
    invalid: str = "repair"
    quads: bool = False
    batch_size: int = 65536
    prefixes: dict = field(default_factory=dict)  # Turtle output: namespaces to abbreviate
    report: dict = field(default_factory=dict)


class Executor:
    """Evaluates one mapping; ``lines(tm, source, batch)`` gives that batch's output lines."""

    def __init__(self, mapping: Mapping, options: Options):
        self.mapping = mapping
        self.options = options
        self.parent_index: dict[tuple[str, str], pa.Table] = {}  # by parent + join conditions

    def context(self, tm: TriplesMap, source: Source, batch: Batch) -> Context:
        geo_refs = {r for r in batch.table.column_names if source.resolve(r) in source.geometry_columns}
        geometry = GeometryColumn(batch.table, geo_refs, source.crs, self.options.target_crs,
                                  self.options.invalid, source.path, batch.offset, self.options.report,
                                  source.describe_record)
        return Context(batch, tm.name, source.path, tm.base_iri or self.options.base_iri,
                       tm.natural_datatypes, geometry, self.options.report)

    def lines(self, tm: TriplesMap, source: Source, batch: Batch, defer_joins: bool = False) -> list[pa.Array]:
        """The batch's lines, record by record (each record's lines in term map order), so the
        output does not depend on where batches or worker partitions start; with ``defer_joins``
        the referencing object maps that need a parent index are left out (a distributed engine
        joins them, see ``join_templates``)."""
        ctx = self.context(tm, source, batch)
        subject = self._terms(term_values(tm.subject, ctx))
        out: list[tuple[pa.Array, np.ndarray]] = []
        graphs = [term_values(g, ctx) for g in tm.graphs]
        for cls in tm.classes:
            out += self._emit(subject, self._terms(constant(RDF_TYPE)), self._terms(constant(f"<{cls}>")), graphs, ctx)
        for pom in tm.poms:
            pgraphs = graphs + [term_values(g, ctx) for g in pom.graphs]
            predicates = [self._terms(term_values(p, ctx)) for p in pom.predicates]
            for om in pom.objects:
                if defer_joins and self.needs_parent_index(om, tm):
                    continue
                obj = self._ref_object(om, tm, ctx) if isinstance(om, RefObjectMap) else term_values(om, ctx)
                obj = self._terms(obj)
                for pred in predicates:
                    out += self._emit(subject, pred, obj, pgraphs, ctx)
        return _record_order(out)

    def needs_parent_index(self, om, tm: TriplesMap) -> bool:
        """A referencing object map whose parent subjects come from another source or a join condition."""
        return isinstance(om, RefObjectMap) and bool(om.joins or self.mapping.triples_maps[om.parent].source != tm.source)

    def join_templates(self, tm: TriplesMap, om: RefObjectMap, source: Source, batch: Batch) -> pa.Table:
        """Child side of a join: key columns ``k0..`` and each line cut where the parent subject goes
        (``prefix`` + parent subject + ``suffix``), for every predicate and graph of ``om``."""
        ctx = self.context(tm, source, batch)
        subject = term_values(tm.subject, ctx)
        graphs = [term_values(g, ctx) for g in tm.graphs]
        marker = Values(dense=pa.array(np.arange(ctx.n)).cast(pa.string()))
        marker = Values(dense=pc.binary_join_element_wise(_MARK, marker.dense, _MARK, ""))
        lines: list[pa.Array] = []
        for pom in tm.poms:
            if any(o is om for o in pom.objects):
                pgraphs = graphs + [term_values(g, ctx) for g in pom.graphs]
                for p in pom.predicates:
                    lines += [arr for arr, _ in self._emit(subject, term_values(p, ctx), marker, pgraphs, ctx)]
        keys = _key_table([raw_values(child, ctx) for child, _ in om.joins], ctx.n)
        names = [f"k{i}" for i in range(len(om.joins))]
        if not lines:
            return pa.table({**{k: pa.array([], pa.string()) for k in names},
                             "prefix": pa.array([], pa.string()), "suffix": pa.array([], pa.string())})
        cut = pc.extract_regex(pa.concat_arrays(lines), _CUT)
        rows = pc.struct_field(cut, "row").cast(pa.int64())
        templates = pa.table({"__row": rows, "prefix": pc.struct_field(cut, "prefix"),
                              "suffix": pc.struct_field(cut, "suffix")})
        return templates.join(keys, "__row", join_type="inner").select(names + ["prefix", "suffix"])

    def parent_keys(self, om: RefObjectMap, parent: TriplesMap, source: Source, batch: Batch) -> pa.Table:
        """Parent side of a join: key columns ``k0..`` and ``__subject`` for one batch of the parent."""
        ctx = self.context(parent, source, batch)
        keys = [raw_values(pm, ctx) for _, pm in om.joins]
        table = _key_table(keys + [term_values(parent.subject, ctx)], ctx.n,
                           names=[f"k{i}" for i in range(len(keys))] + ["__subject"])
        return table.drop_columns(["__row"])

    def _terms(self, v: Values) -> Values:
        """Turtle output: IRIs and datatypes in a declared namespace as prefixed names (once per term map)."""
        if not self.options.prefixes:
            return v
        if v.is_const:
            return constant(abbreviate(pa.array([v.const], pa.string()), self.options.prefixes)[0].as_py()
                            if v.const else v.const)
        if v.dense is not None:
            return Values(dense=abbreviate(v.dense, self.options.prefixes))
        return Values(rows=v.rows, sparse=abbreviate(v.sparse, self.options.prefixes))

    def _emit(self, s: Values, p: Values, o: Values, graphs: list[Values],
              ctx: Context) -> list[tuple[pa.Array, np.ndarray]]:
        """Lines of one triple pattern per graph, each with the record number of every line."""
        if not self.options.quads:
            graphs = []
        targets = graphs or [constant(DEFAULT_GRAPH)]
        result = []
        for g in targets:
            parts = [s, p, o]
            with_graph = not (g.is_const and g.const == DEFAULT_GRAPH)
            if with_graph:
                parts.append(g)

            def join(arrs, with_graph=with_graph):
                line = pc.binary_join_element_wise(*arrs, " ")
                if with_graph:  # a graph value of rml:defaultGraph means the default graph
                    default = pc.equal(arrs[3], DEFAULT_GRAPH)
                    if not isinstance(default, pa.Scalar) or default.as_py():
                        plain = pc.binary_join_element_wise(*arrs[:3], " ")
                        line = pc.if_else(pc.fill_null(default, False), plain, line)
                return pc.binary_join_element_wise(line, " .\n", "")

            v = combine(parts, join, ctx.n)
            if v.is_const:
                if v.const is not None:
                    result.append((pa.repeat(pa.scalar(v.const, pa.string()), ctx.n), np.arange(ctx.n)))
                continue
            arr = v.dense if v.dense is not None else v.sparse
            rows = np.arange(ctx.n) if v.dense is not None else v.rows
            if arr.null_count:
                valid = arr.is_valid()
                rows, arr = rows[valid.to_numpy(zero_copy_only=False)], arr.filter(valid)
            if len(arr):
                result.append((arr, rows))
        return result

    # -- referencing object maps ---------------------------------------------
    def _ref_object(self, om: RefObjectMap, tm: TriplesMap, ctx: Context) -> Values:
        parent = self.mapping.triples_maps[om.parent]
        if not om.joins and parent.source == tm.source:
            return term_values(parent.subject, ctx)
        index = self.parent_index[_index_key(om)]
        keys = [raw_values(child, ctx) for child, _ in om.joins]
        if not keys:
            rows = np.arange(ctx.n)
            child = pa.table({"__row": rows, "__k": pa.repeat(0, ctx.n)})
            joined = child.join(index.append_column("__k", pa.repeat(0, index.num_rows)), "__k")
        else:
            child = _key_table(keys, ctx.n)
            joined = child.join(index, [f"k{i}" for i in range(len(keys))], join_type="inner")
        joined = joined.sort_by("__row")
        return Values(rows=joined.column("__row").to_numpy(), sparse=joined.column("__subject").combine_chunks())

    def build_parent_index(self, om: RefObjectMap, parent: TriplesMap, parent_source: Source):
        """All (join key values, subject) pairs of a parent triples map, held in memory."""
        if _index_key(om) in self.parent_index:
            return
        parts = [self.parent_keys(om, parent, parent_source, batch)
                 for batch in parent_source.batches(sorted(parent_refs(parent, om) - ROW_REFS),
                                                    self.options.batch_size)]
        if parts:
            index = pa.concat_tables(parts)
        else:
            index = pa.table({**{f"k{i}": pa.array([], pa.string()) for i in range(len(om.joins))},
                              "__subject": pa.array([], pa.string())})
        self.parent_index[_index_key(om)] = index


def _record_order(parts: list[tuple[pa.Array, np.ndarray]]) -> list[pa.Array]:
    """One array of all lines, ordered by record and, within a record, as emitted."""
    if len(parts) <= 1:
        return [arr for arr, _ in parts]
    rows = np.concatenate([r for _, r in parts])
    order = np.argsort(rows, kind="stable")
    arrays = [arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr for arr, _ in parts]
    big = any(pa.types.is_large_string(a.type) for a in arrays) or sum(a.nbytes for a in arrays) >= 1 << 30
    kind = pa.large_string() if big else pa.string()  # one type; 64-bit offsets past 1 GB of text
    return [pa.concat_arrays([a if a.type == kind else a.cast(kind) for a in arrays]).take(pa.array(order))]


def _index_key(om: RefObjectMap) -> tuple[str, str]:
    """Ref object maps with the same parent and join conditions share one parent index."""
    return om.parent, repr(om.joins)


def parent_refs(parent: TriplesMap, om: RefObjectMap) -> set[str]:
    refs = set(parent.subject.references)
    for _, pm in om.joins:
        refs.update(pm.references)
    return refs


def _key_table(values: list[Values], n: int, names: list[str] | None = None) -> pa.Table:
    names = names or [f"k{i}" for i in range(len(values))]
    cols = []
    for v in values:
        if v.is_const:
            cols.append(v)
        else:
            rows, arr = to_sparse(v, n)
            cols.append(Values(rows=rows, sparse=arr))
    if all(c.is_const for c in cols):
        return pa.table({"__row": np.arange(n), **{nm: pa.repeat(pa.scalar(c.const, pa.string()), n)
                                                    for nm, c in zip(names, cols)}})
    rows, arrs = align(cols)
    data = {"__row": pa.array(rows, pa.int64())}
    for nm, a in zip(names, arrs):
        data[nm] = pa.repeat(a, len(rows)) if isinstance(a, pa.Scalar) else a
    return pa.table(data)


def required_refs(mapping: Mapping, tm: TriplesMap) -> set[str]:
    """References a batch of ``tm`` must carry, including parents that share its source."""
    refs = set(tm.references)
    for pom in tm.poms:
        for om in pom.objects:
            if isinstance(om, RefObjectMap) and not om.joins:
                parent = mapping.triples_maps[om.parent]
                if parent.source == tm.source:
                    refs.update(parent.subject.references)
    return refs


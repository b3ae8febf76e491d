"""SPARQL property paths, evaluated with Arrow joins over the edges SQL returns.

A path becomes an in-memory table (s, o, g) registered as a view; ``+`` and ``*`` are
transitive closures computed semi-naively (each round joins only the new pairs), zero-length
paths add every node of the active graph.  Graph ids are kept; -1 stands for the default graph.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from rdflib import URIRef
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

from eolinked.errors import QueryError

from .expr import term_nt

_SCHEMA = pa.schema([("s", pa.int64()), ("o", pa.int64()), ("g", pa.int64())])


class PathEvaluator:
    def __init__(self, compiler, graph_sql: str):
        self.c, self.cat, self.where = compiler, compiler.cat, graph_sql

    def edges(self, path) -> pa.Table:
        if isinstance(path, URIRef):
            pid = self.cat.term_id(term_nt(path))
            if pid is None:
                return _SCHEMA.empty_table()
            return self._sql(f"SELECT s, o, COALESCE(g, -1) AS g FROM quads WHERE p = {pid} AND {self.where}")
        if isinstance(path, InvPath):
            t = self.edges(path.arg)
            return pa.table([t["o"], t["s"], t["g"]], schema=_SCHEMA)
        if isinstance(path, SequencePath):
            acc = self.edges(path.args[0])
            for step in path.args[1:]:
                acc = _compose(acc, self.edges(step))
            return acc
        if isinstance(path, AlternativePath):
            return pa.concat_tables([self.edges(a) for a in path.args])
        if isinstance(path, MulPath):
            base = _distinct(self.edges(path.path))
            if path.mod == "?":
                return _distinct(pa.concat_tables([base, self.nodes()]))
            closed = _closure(base)
            return _distinct(pa.concat_tables([closed, self.nodes()])) if path.mod == "*" else closed
        if isinstance(path, NegatedPath):
            return self._negated(path)
        raise QueryError(f"unsupported property path {path!r}")

    def nodes(self) -> pa.Table:
        t = self._sql(f"SELECT s AS n, COALESCE(g, -1) AS g FROM quads WHERE {self.where} UNION "
                      f"SELECT o AS n, COALESCE(g, -1) AS g FROM quads WHERE {self.where}")
        return pa.table([t["n"], t["n"], t["g"]], schema=_SCHEMA)

    def _negated(self, path) -> pa.Table:
        fwd = [a for a in path.args if isinstance(a, URIRef)]
        # ^iri members: InvPath, or the parser's InversePath node (see store.sparql)
        inv = [a.arg if isinstance(a, InvPath) else a["path"] for a in path.args if not isinstance(a, URIRef)]
        parts = []
        if fwd or not inv:
            parts.append(self._sql(f"SELECT s, o, COALESCE(g, -1) AS g FROM quads WHERE {self.where}"
                                   f"{self._not_in(fwd)}"))
        if inv:
            t = self._sql(f"SELECT o AS s, s AS o, COALESCE(g, -1) AS g FROM quads WHERE {self.where}"
                          f"{self._not_in(inv)}")
            parts.append(t)
        return pa.concat_tables(parts)

    def _not_in(self, iris) -> str:
        ids = [i for i in (self.cat.term_id(term_nt(p)) for p in iris) if i is not None]
        return f" AND p NOT IN ({', '.join(map(str, ids))})" if ids else ""

    def _sql(self, sql: str) -> pa.Table:
        t = self.cat.run(sql)
        return pa.table([t.column(i).cast(pa.int64()) for i in range(3)], names=_SCHEMA.names) \
            if t.num_columns == 3 else t


def _distinct(t: pa.Table) -> pa.Table:
    return t.group_by(["s", "o", "g"], use_threads=False).aggregate([]).select(["s", "o", "g"])


def _compose(a: pa.Table, b: pa.Table) -> pa.Table:
    left = a.rename_columns(["s", "m", "g"])
    right = b.rename_columns(["m", "o", "g"])
    j = left.join(right, keys=["m", "g"], join_type="inner")
    return j.select(["s", "o", "g"]).cast(_SCHEMA)


def _closure(edges: pa.Table) -> pa.Table:
    result, delta = edges, edges
    while delta.num_rows:
        step = _distinct(_compose(delta, edges))
        new = step.join(result, keys=["s", "o", "g"], join_type="left anti")
        result = pa.concat_tables([result, new.select(["s", "o", "g"])])
        delta = new.select(["s", "o", "g"])
    return result


def to_view_table(t: pa.Table) -> pa.Table:
    """Back to the store's graph convention (null = default graph)."""
    g = pc.if_else(pc.equal(t["g"], -1), pa.scalar(None, pa.int64()), t["g"])
    return pa.table([t["s"], t["o"], g], schema=_SCHEMA)

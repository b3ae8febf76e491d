"""CONSTRUCT templates and DESCRIBE, instantiated column-wise over the solutions."""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rdflib import BNode, Variable

from .expr import term_nt

_SCHEMA = pa.schema([("s", pa.string()), ("p", pa.string()), ("o", pa.string())])
_queries = itertools.count()


def construct(template, solutions: pa.Table) -> pa.Table:
    """Instantiate each template triple for every solution; drop triples with an unbound or
    ill-placed term (literal subject, non-IRI predicate); return distinct triples."""
    n, run = solutions.num_rows, next(_queries)
    rows = pa.array(np.arange(n)).cast(pa.string())
    parts = []
    for s, p, o in template:
        cols = [_position(t, solutions, rows, n, run) for t in (s, p, o)]
        first = [pc.utf8_slice_codeunits(c, 0, 1) for c in cols]
        ok = pc.and_kleene(pc.and_kleene(pc.is_in(first[0], pa.array(["<", "_"])), pc.equal(first[1], "<")),
                           pc.is_valid(cols[2]))
        ok = pc.fill_null(ok, False)
        parts.append(pa.table([pc.filter(c, ok) for c in cols], schema=_SCHEMA))
    if not parts:
        return _SCHEMA.empty_table()
    out = pa.concat_tables(parts)
    return out.group_by(["s", "p", "o"], use_threads=False).aggregate([]).select(["s", "p", "o"])


def _position(term, solutions, rows, n, run) -> pa.Array:
    if isinstance(term, Variable):
        name = str(term)
        if name in solutions.column_names:
            return solutions[name].combine_chunks().cast(pa.string())
        return pa.nulls(n, pa.string())
    if isinstance(term, BNode):
        return pc.binary_join_element_wise(f"_:c{run}x{term}x", rows, "")
    return pa.array(np.full(n, term_nt(term), dtype=object), pa.string())


def describe(store, alg, solutions: pa.Table) -> pa.Table:
    """The triples whose subject is a described resource, in the default graph."""
    nts = set()
    for v in alg.PV:
        if isinstance(v, Variable):
            if str(v) in solutions.column_names:
                nts.update(x for x in solutions[str(v)].to_pylist() if x)
        else:
            nts.add(term_nt(v))
    ids = [i for i in (store.term_id(x) for x in sorted(nts)) if i is not None]
    if not ids:
        return _SCHEMA.empty_table()
    t = store.run(f"SELECT s, p, o FROM quads WHERE g IS NULL AND s IN ({', '.join(map(str, ids))})")
    return pa.table([store._decode(t[c], "id") for c in ("s", "p", "o")], schema=_SCHEMA)


def where_triples(node) -> list:
    """The triple patterns of a CONSTRUCT WHERE query's pattern (its template)."""
    if node is None:
        return []
    if getattr(node, "name", None) == "BGP":
        return list(node.triples)
    out = []
    for key in ("p", "p1", "p2"):
        child = node.get(key) if hasattr(node, "get") else None
        if child is not None:
            out.extend(where_triples(child))
    return out

"""GROUP BY and aggregates -> SQL GROUP BY; SUM / AVG / MIN / MAX / GROUP_CONCAT run as the
vectorised ``sp_agg`` UDF over each group's list of values, COUNT and SAMPLE natively."""
from __future__ import annotations

from rdflib import Variable
from rdflib.plugins.sparql.parserutils import CompValue

from .compile import HIDDEN_GRAPH
from .expr import as_term, col, sql_str
from eolinked.vocab import XSD

_INTEGER = f'"^^<{XSD}integer>'
# SPARQL 1.1 18.5.1: the multiset an aggregate reads keeps the errors of its expression (ListEval),
# and MIN / MAX / GROUP_CONCAT of a multiset holding an error are errors (SUM and AVG: see udfs)
_STRICT = ("MIN", "MAX", "GROUP_CONCAT")


def compile_aggregates(c, node, graph):
    group = node.p
    rel = c.compile(group.p, graph)
    ex = c.exprs("r", rel)
    pre, keys, cols = [], [], {}
    for i, key in enumerate(group.expr or []):
        if key is None and c.unnamed_group is not None:
            key = c.unnamed_group
        if isinstance(key, Variable):
            v = str(key)
            e = ex(key) if v in rel.cols else None
            name = v
        else:
            e, name = as_term(ex(key)), f"__group_{i}"
        if e is None:
            pre.append(f"CAST(NULL AS VARCHAR) AS {col(None, name)}")
            cols[name] = "nt"
        else:
            e = as_term(e)
            pre.append(f"{e.sql} AS {col(None, name)}")
            cols[name] = e.kind
        keys.append(col(None, name))
    for v, kind in rel.cols.items():  # inside GRAPH ?g: group per graph
        if v.startswith(HIDDEN_GRAPH) and v not in cols:
            pre.append(f"r.{col(None, v)} AS {col(None, v)}")
            cols[v] = kind
            keys.append(col(None, v))
    aggs, out_cols = [], dict(cols)
    for j, agg in enumerate(node.A):
        res = str(agg.res)
        kind = agg.name[len("Aggregate_"):].upper().replace("GROUPCONCAT", "GROUP_CONCAT")
        if kind == "CUSTOM":
            kind = agg["iri"]
        distinct = "DISTINCT " if agg.get("distinct") == "DISTINCT" else ""
        if agg.vars == "*":
            arg = None
        else:
            e = as_term(ex(agg.vars))
            pre.append(f"{e.sql} AS a{j}")
            arg = f"a{j}"
            arg_kind = e.kind
        if kind == "COUNT":
            if arg is None and distinct:
                pre.append(f"{_row_key(rel)} AS a{j}")
                arg = f"a{j}"
            counted = f"count({distinct}{arg})" if arg else "count(*)"
            aggs.append(f"'\"' || CAST({counted} AS VARCHAR) || '{_INTEGER}' AS {col(None, res)}")
            out_cols[res] = "nt"
        elif kind == "SAMPLE":
            aggs.append(f"min(a{j}) AS {col(None, res)}")
            out_cols[res] = arg_kind
        else:
            sep = agg["separator"] if "separator" in agg else None
            sep_sql = sql_str(sep) if sep is not None else "CAST(NULL AS VARCHAR)"
            call = f"sp_agg({sql_str(kind)}, array_agg({distinct}a{j}), {sep_sql})"
            if kind in _STRICT:  # an unbound value or error in the group makes the aggregate an error
                call = f"CASE WHEN count(a{j}) < count(*) THEN CAST(NULL AS VARCHAR) ELSE {call} END"
            aggs.append(f"{call} AS {col(None, res)}")
            out_cols[res] = "nt"
    inner = c.add(f"SELECT {', '.join(pre) or '1 AS one'} FROM {rel.name} r", {})
    group_by = f" GROUP BY {', '.join(keys)}" if keys else ""
    sql = f"SELECT {', '.join(keys + aggs) or '1 AS one'} FROM {inner.name}{group_by}"
    return c.add(sql, out_cols, set(out_cols))


def _row_key(rel) -> str:
    parts = [f"COALESCE(sp_nt(r.{col(None, v)}), '')" for v in rel.cols]
    return "concat_ws(' ', " + ", ".join(parts) + ")" if parts else "1"


def lift_custom_aggregates(node, iris) -> None:
    """Make GeoSPARQL aggregates (geof:aggUnion & co.) real aggregates.  rdflib parses
    ``(geof:aggUnion(?w) AS ?u)`` as a function call: over a grouped pattern its argument becomes
    a SAMPLE, which is turned into the aggregate here; without GROUP BY the pattern is grouped
    as a whole.  Changes the algebra in place."""
    if not isinstance(node, CompValue):
        return
    for key in ("p", "p1", "p2"):
        lift_custom_aggregates(node.get(key), iris)
    if node.name != "Extend":
        return
    fn = node.expr
    if not (isinstance(fn, CompValue) and fn.name == "Function" and str(fn.iri) in iris and len(fn.expr) == 1):
        return
    arg, below = fn.expr[0], node.p
    while isinstance(below, CompValue) and below.name in ("Extend", "Filter"):
        below = below.p
    if isinstance(below, CompValue) and below.name == "AggregateJoin":
        for agg in below.A:
            if agg.name == "Aggregate_Sample" and agg.res == arg:
                agg.name = "Aggregate_Custom"
                agg["iri"] = str(fn.iri)
                node.expr = arg
                return
        return
    res = Variable(f"__custom_agg_{id(node)}__")
    custom = CompValue("Aggregate_Custom", vars=arg, res=res, iri=str(fn.iri), distinct=[])
    node.p = CompValue("AggregateJoin", A=[custom], p=CompValue("Group", p=node.p, expr=None))
    node.expr = res

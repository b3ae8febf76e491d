"""A basic graph pattern (with the FILTERs over it) -> one SQL SELECT.

Triple patterns become scans of their predicate's table with constants and the graph pushed
into the scan; scans are joined greedily, smallest estimated first and always through a shared
variable when there is one.  The pattern is split into connected parts; a spatial FILTER between
variables of two parts joins them with the engine's spatial join.
"""
from __future__ import annotations

import itertools

from rdflib import BNode, URIRef, Variable
from rdflib.paths import InvPath, Path, SequencePath

from . import spatial
from .expr import col, term_nt

_EMPTY = object()
_fresh = itertools.count()


def compile_bgp(c, triples, graph, filters):
    pats = []
    for s, p, o in expand_paths(triples):
        pat = _pattern(c, s, p, o, graph)
        if pat is _EMPTY:
            return c.filter(c.empty(_vars_of(triples, graph)), [])
        pats.append(pat)
    if not pats:  # the empty pattern: one solution with no variables (per graph inside GRAPH)
        if isinstance(graph, Variable):
            rel = c.named_graphs(str(graph))
        elif graph is not None and _graph_condition(c, graph)[0] is False:
            rel = c.empty({})
        elif graph is not None:
            gid = c.cat.term_id(term_nt(graph))
            rel = c.add(f"SELECT DISTINCT 1 AS one FROM quads WHERE g = {gid}", {})
        else:
            rel = c.add("SELECT 1 AS one", {})
        return c.filter(rel, filters) if filters else rel
    id_vars = {v for pat in pats for v in pat["vars"]}
    classified = [spatial.classify(f, id_vars) for f in filters]
    tests = [t for t in classified if t]
    rest = [f for f, t in zip(filters, classified) if not t]
    parts = _components(pats)
    part_of = {v: i for i, part in enumerate(parts) for pat in part for v in pat["vars"]}
    const_tests = {i: [] for i in range(len(parts))}
    joins, leftover = [], []
    for t in tests:
        if t.var_b is None:
            const_tests[part_of[t.var_a]].append(t)
        elif part_of[t.var_a] != part_of[t.var_b]:
            joins.append(t)
        else:
            leftover.append(t)
    rest += [f for f, t in zip(filters, classified) if t in leftover]
    geo_vars = {v for t in joins for v in (t.var_a, t.var_b)}
    subs = [_part_sql(c, part, const_tests[i], geo_vars) for i, part in enumerate(parts)]
    if len(subs) == 1:
        sql, cols = subs[0]
    else:
        sql, cols = _join_parts(subs, joins)
    rel = c.add(sql, {v: "id" for v in cols})
    return c.filter(rel, rest) if rest else rel


def expand_paths(triples):
    """Sequence and inverse paths of plain predicates become ordinary patterns (joins in SQL)."""
    out = []
    for s, p, o in triples:
        if isinstance(p, InvPath) and isinstance(p.arg, URIRef):
            out.append((o, p.arg, s))
        elif isinstance(p, SequencePath):
            nodes = [s] + [BNode(f"seq{next(_fresh)}") for _ in p.args[1:]] + [o]
            out.extend(expand_paths([(nodes[i], step, nodes[i + 1]) for i, step in enumerate(p.args)]))
        else:
            out.append((s, p, o))
    return out


def _vars_of(triples, graph) -> dict:
    names = {_var(t) for tr in triples for t in tr if _var(t)}
    if isinstance(graph, Variable):
        names.add(str(graph))
    return {v: "id" for v in names}


def _var(t):
    if isinstance(t, Variable):
        return str(t)
    if isinstance(t, BNode):
        return "_bn_" + str(t)
    return None


def _pattern(c, s, p, o, graph):
    """One triple pattern: its scan SQL and which scan column binds which variable."""
    cat, ds = c.cat, c.dataset
    conds, binds = [], []
    if isinstance(p, Path):
        source, has_p = c.path_view(p, graph), False
        est = cat.total / 4
    elif _var(p):
        source, has_p = "quads", True
        binds.append(("p", _var(p)))
        est = cat.total
    elif spatial.is_relation_property(p) and cat.entailment:
        source, has_p, est = f"({spatial.rewrite_sql(cat, str(p))}) rw", False, cat.total / 4
    else:
        pid = cat.term_id(term_nt(p))
        found = None if pid is None else cat.scan_source(pid)
        if found is None:
            return _EMPTY
        source, in_rest = found
        has_p = False
        if in_rest:
            conds.append(f"p = {pid}")
        est = None
    for pos, term in (("s", s), ("o", o)):
        v = _var(term)
        if v:
            binds.append((pos, v))
        else:
            tid = cat.term_id(term_nt(term))
            if tid is None:
                return _EMPTY
            conds.append(f"{pos} = {tid}")
    if est is None:
        o_id = None if _var(o) else cat.term_id(term_nt(o))
        est = cat.estimate(pid, s_bound=not _var(s), o_id=o_id)
    gcond, gvar, distinct = _graph_condition(c, graph)
    if gcond is False:
        return _EMPTY
    conds += gcond
    if gvar:
        binds.append(("g", gvar))
    seen, cols = {}, []
    for pos, v in binds:
        if v in seen:
            conds.append(f"{pos} = {seen[v]}")
        else:
            seen[v] = pos
            cols.append(pos)
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    sel = ", ".join(cols) or "1 AS one"
    sql = f"SELECT {'DISTINCT ' if distinct else ''}{sel} FROM {source}{where}"
    return {"sql": sql, "binds": {v: pos for v, pos in seen.items()}, "vars": set(seen), "est": est,
            "has_p": has_p}


def _graph_condition(c, graph):
    """(conditions on g, graph variable, de-duplicate) for the active graph of a pattern."""
    ds = c.dataset
    if graph is None:
        if ds.default is None:
            return ["g IS NULL"], None, False
        if not ds.default:
            return False, None, False
        return [f"g IN ({', '.join(map(str, ds.default))})"], None, len(ds.default) > 1
    v = _var(graph)
    if v:
        if ds.named is None:
            return ["g IS NOT NULL"], v, False
        if not ds.named:
            return False, None, False
        return [f"g IN ({', '.join(map(str, ds.named))})"], v, False
    gid = c.cat.term_id(term_nt(graph))
    if gid is None or (ds.named is not None and gid not in ds.named):
        return False, None, False
    return [f"g = {gid}"], None, False


def _components(pats):
    parts: list[list] = []
    for pat in pats:
        touching = [part for part in parts if any(pat["vars"] & q["vars"] for q in part)]
        merged = [pat] + [q for part in touching for q in part]
        parts = [part for part in parts if part not in touching] + [merged]
    return parts


def _order(part):
    """Greedy join order: cheapest first, then the cheapest pattern sharing a variable."""
    left = sorted(part, key=lambda p: p["est"])
    out, bound = [left.pop(0)], set()
    bound |= out[0]["vars"]
    while left:
        linked = [p for p in left if p["vars"] & bound] or left
        nxt = min(linked, key=lambda p: p["est"])
        left.remove(nxt)
        out.append(nxt)
        bound |= nxt["vars"]
    return out


def _part_sql(c, part, const_tests, geo_vars):
    """SELECT of one connected part: its variables, plus geometry columns ``gm_<var>``."""
    where_of, from_sql, conds_all = {}, [], []
    for i, pat in enumerate(_order(part)):
        alias = f"t{i}"
        on = []
        for v, pos in pat["binds"].items():
            if v in where_of:
                on.append(f"{alias}.{pos} = {where_of[v]}")
            else:
                where_of[v] = f"{alias}.{pos}"
        if i == 0:
            from_sql.append(f"({pat['sql']}) {alias}")
        else:
            join = f"JOIN ({pat['sql']}) {alias} ON {' AND '.join(on)}" if on else \
                f"CROSS JOIN ({pat['sql']}) {alias}"
            from_sql.append(join)
    for j, t in enumerate(const_tests):
        g = f"cg{j}"
        from_sql.append(f"JOIN geoms {g} ON {g}.id = {where_of[t.var_a]} AND {spatial.constant_sql(t, g)}")
    sel = [f"{ref} AS {col(None, v)}" for v, ref in where_of.items()]
    for k, v in enumerate(sorted(geo_vars & set(where_of))):
        g = f"gj{k}"
        from_sql.append(f"JOIN geoms {g} ON {g}.id = {where_of[v]}")
        sel.append(f"{g}.geom AS {_geo_col(v)}")
    sql = f"SELECT {', '.join(sel) or '1 AS one'} FROM {' '.join(from_sql)}"
    if conds_all:
        sql += " WHERE " + " AND ".join(conds_all)
    return sql, list(where_of)


def _geo_col(v: str) -> str:
    return col(None, "gm_" + v)


def _join_parts(subs, joins):
    """Join the connected parts: spatial joins where a FILTER links them, else cross joins."""
    owners = {v: "j0" for v in subs[0][1]}
    acc_sql, pending = f"({subs[0][0]}) j0", list(joins)

    def geo(v, where):
        return f"{where[v]}.{_geo_col(v)}"

    for k, (sql, cols) in enumerate(subs[1:], start=1):
        alias, on = f"j{k}", []
        here = {v: alias for v in cols}
        for t in list(pending):
            if t.var_a in owners and t.var_b in here:
                on.append(t.sql(geo(t.var_a, owners), geo(t.var_b, here)))
            elif t.var_b in owners and t.var_a in here:
                on.append(t.sql(geo(t.var_a, here), geo(t.var_b, owners)))
            else:
                continue
            pending.remove(t)
        acc_sql += f" JOIN ({sql}) {alias} ON {' AND '.join(on)}" if on else f" CROSS JOIN ({sql}) {alias}"
        for v in cols:
            owners.setdefault(v, alias)
    sel = ", ".join(f"{owners[v]}.{col(None, v)}" for v in owners)
    sql = f"SELECT {sel} FROM {acc_sql}"
    if pending:  # both parts were already joined through another test: check it afterwards
        sql += " WHERE " + " AND ".join(
            t.sql(geo(t.var_a, owners), geo(t.var_b, owners)) for t in pending)
    return sql, list(owners)

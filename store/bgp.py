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
    cands = [c for c in (spatial.classify(f, id_vars) for f in filters) if c]
    parts = _components(pats)
    part_of = {v: i for i, part in enumerate(parts) for pat in part for v in pat["vars"]}
    const_cands = {i: [] for i in range(len(parts))}
    links = []
    for cand in cands:  # the conjuncts themselves stay below as the exact filter
        if cand.var_b is None:
            const_cands[part_of[cand.var_a]].append(cand)
        elif part_of[cand.var_a] != part_of[cand.var_b]:
            links.append(cand)
    subs = [_part_sql(c, part, const_cands[i], links) for i, part in enumerate(parts)]
    if len(subs) == 1:
        sql, cols = subs[0]
    else:
        sql, cols = _join_parts(subs, links)
    rel = c.add(sql, {v: "id" for v in cols})
    return c.filter(rel, filters) if filters else rel


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
        ends = [None if _var(t) else cat.term_id(term_nt(t)) for t in (s, o)]
        if any(e is None and not _var(t) for e, t in zip(ends, (s, o))):
            return _EMPTY
        source, has_p, est = f"({spatial.rewrite_sql(cat, str(p), *ends)}) rw", False, cat.total / 4
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


def _part_sql(c, part, const_cands, links):
    """SELECT of one connected part: its variables, plus the envelope columns of the spatial links."""
    where_of, from_sql = {}, []
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
    pruned = {}
    for j, cand in enumerate(const_cands):
        g = f"cg{j}"
        from_sql.append(f"JOIN geoms {g} ON {g}.id = {where_of[cand.var_a]} AND {spatial.constant_sql(cand, g)}")
        pruned[cand.var_a] = f"greatest({g}.id, {pruned.get(cand.var_a, where_of[cand.var_a])})"
    # a pruned variable reads both sides of its candidate join (equal ids), so the exact test
    # on it cannot be pushed below the join to every row of the scan
    sel = [f"{pruned.get(v, ref)} AS {col(None, v)}" for v, ref in where_of.items()]
    for k, cand in enumerate(links):
        for v, widened in ((cand.var_a, cand), (cand.var_b, spatial.Candidate(cand.var_b))):
            if v in where_of:
                g = f"ge{k}_{int(widened is cand)}"
                from_sql.append(f"JOIN geoms {g} ON {g}.id = {where_of[v]}")
                sel.append(f"{spatial.envelope_sql(g, widened)} AS {_env_col(k, v)}")
    sql = f"SELECT {', '.join(sel) or '1 AS one'} FROM {' '.join(from_sql)}"
    return sql, list(where_of)


def _env_col(k: int, v: str) -> str:
    return col(None, f"env{k}_{v}")


def _join_parts(subs, links):
    """Join the connected parts: on envelope overlap where a spatial FILTER links them (the
    engine's spatial join), else cross joins; parts with a link to what is joined go first."""
    first_sql, first_cols = subs[0]
    owners = {v: "j0" for v in first_cols}
    acc_sql, pending, left = f"({first_sql}) j0", list(enumerate(links)), list(enumerate(subs))[1:]
    while left:
        def linked(item):
            cols = set(item[1][1])
            return any((t.var_a in owners and t.var_b in cols) or (t.var_b in owners and t.var_a in cols)
                       for _, t in pending)
        pos = next((n for n, item in enumerate(left) if linked(item)), 0)
        k_sub, (sql, cols) = left.pop(pos)
        alias, on = f"j{k_sub}", []
        for k, t in list(pending):
            if t.var_a in owners and t.var_b in cols:
                on.append(spatial.envelopes_meet(f"{owners[t.var_a]}.{_env_col(k, t.var_a)}",
                                                 f"{alias}.{_env_col(k, t.var_b)}"))
            elif t.var_b in owners and t.var_a in cols:
                on.append(spatial.envelopes_meet(f"{alias}.{_env_col(k, t.var_a)}",
                                                 f"{owners[t.var_b]}.{_env_col(k, t.var_b)}"))
            else:
                continue
            pending.remove((k, t))
        acc_sql += f" JOIN ({sql}) {alias} ON {' AND '.join(on)}" if on else f" CROSS JOIN ({sql}) {alias}"
        for v in cols:
            owners.setdefault(v, alias)
    sel = ", ".join(f"{owners[v]}.{col(None, v)}" for v in owners)
    return f"SELECT {sel} FROM {acc_sql}", list(owners)

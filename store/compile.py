"""SPARQL algebra -> one SQL statement (a chain of CTEs) over the store's tables.

Every algebra node becomes a CTE whose columns are its variables (``"v_name"``), holding term
ids (kind ``id``) or terms computed by expressions (kind ``nt``).  A basic graph pattern is a
join of per-predicate scans ordered by the statistics; spatial FILTERs inside it become
joins on the geometry table (bounding box first, then the exact test), and a spatial FILTER
between two variables joins the two halves of the pattern with the engine's spatial join.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Variable
from rdflib.plugins.sparql import algebra
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked.errors import QueryError

from . import pushdown, spatial
from .expr import ExprCompiler, as_bool, as_term, col, sql_str, term_nt


HIDDEN_GRAPH = "_graph"  # prefix of the hidden column that carries GRAPH ?g's graph


@dataclass
class Rel:
    name: str
    cols: dict[str, str]                    # variable -> "id" | "nt"
    nullable: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)  # ORDER BY items over this CTE's columns


@dataclass
class Dataset:
    """Graph ids: ``default`` None = the store's default graph, else the merge of these graphs;
    ``named`` None = every named graph, else these."""

    default: list[int] | None = None
    named: list[int] | None = None


class Compiler:
    def __init__(self, catalog, dataset: Dataset, now_nt: str, base: str | None = None):
        self.cat, self.dataset, self.now_nt, self.base = catalog, dataset, now_nt, base
        self.ctes: list[tuple[str, str]] = []
        self.unnamed_group = None

    # -- helpers -------------------------------------------------------------------------
    def add(self, sql: str, cols: dict, nullable=(), order=()) -> Rel:
        name = f"q{len(self.ctes)}"
        self.ctes.append((name, sql))
        return Rel(name, dict(cols), set(nullable), list(order))

    def empty(self, cols: dict) -> Rel:
        sel = ", ".join(f"CAST(NULL AS {'BIGINT' if k == 'id' else 'VARCHAR'}) AS {col(None, v)}"
                        for v, k in cols.items()) or "1 AS one"
        return self.add(f"SELECT {sel} WHERE FALSE", cols)

    def exprs(self, alias: str, rel: Rel) -> ExprCompiler:
        return ExprCompiler(alias, rel.cols, self.cat.term_id, self._exists, self.now_nt, self.base)

    def statement(self, rel: Rel, select: str, tail: str = "") -> str:
        withs = ",\n".join(f"{n} AS ({s})" for n, s in self.ctes)
        return f"WITH {withs}\nSELECT {select} FROM {rel.name} r {tail}"

    # -- dispatch ------------------------------------------------------------------------
    def compile(self, node, graph=None) -> Rel:
        if node is None:  # DESCRIBE <iri> without WHERE
            return self.add("SELECT 1 AS one", {})
        name = node.name
        method = getattr(self, "_" + name, None)
        if method is None:
            raise QueryError(f"SPARQL feature not supported: {name}")
        outer, self._graph_ctx = self._graph_ctx, graph
        try:
            return method(node, graph)
        finally:
            self._graph_ctx = outer

    def _SelectQuery(self, node, graph):
        return self.compile(node.p, graph)

    _ConstructQuery = _AskQuery = _DescribeQuery = _SelectQuery

    def _ToMultiSet(self, node, graph):
        return self.compile(node.p, graph)

    def _values(self, node, graph):
        rows = node.res
        names = sorted({str(v) for r in rows for v in r})
        cols = {v: "nt" for v in names}
        if not rows:
            return self.empty(cols)
        if not names:
            return self.add(" UNION ALL ".join("SELECT 1 AS one" for _ in rows), {})
        tuples = []
        for r in rows:
            vals = {str(k): v for k, v in r.items()}
            tuples.append("(" + ", ".join(
                "CAST(NULL AS VARCHAR)" if vals.get(v) in (None, "UNDEF") else sql_str(term_nt(vals[v]))
                for v in names) + ")")
        alias = ", ".join(col(None, v) for v in names)
        sql = f"SELECT * FROM (VALUES {', '.join(tuples)}) AS t({alias})"
        nullable = {v for v in names for r in rows if r.get(Variable(v)) in (None, "UNDEF")}
        return self.add(sql, cols, nullable)

    # -- basic graph patterns -------------------------------------------------------------
    def _BGP(self, node, graph, filters=()):
        from .bgp import compile_bgp

        return compile_bgp(self, list(node.triples), graph, list(filters))

    def _Graph(self, node, graph):
        """GRAPH ?g { P }: P is evaluated in every named graph, the graph kept in a hidden column
        that projections and groupings carry along, then bound to ?g."""
        term = node.term
        if not isinstance(term, Variable):
            return self.compile(node.p, term)
        hidden = Variable(f"{HIDDEN_GRAPH}{len(self.ctes)}")
        rel = self.compile(node.p, hidden)
        h, g = str(hidden), str(term)
        if h not in rel.cols:
            rel = self.join(rel, self.named_graphs(h))
        if g in rel.cols:  # ?g also bound inside: keep the rows where it names the graph
            same = f"r.{col(None, g)} = " + (f"r.{col(None, h)}" if rel.cols[g] == "id" else
                                               f"sp_nt(r.{col(None, h)})")
            if g in rel.nullable:
                same = f"({same} OR r.{col(None, g)} IS NULL)"
            rel = self.add(f"SELECT r.* FROM {rel.name} r WHERE {same}", rel.cols, rel.nullable, rel.order)
        names = [v for v in rel.cols if v != h]
        sel = [f"r.{col(None, v)}" for v in names if v != g] + [f"r.{col(None, h)} AS {col(None, g)}"]
        cols = {v: rel.cols[v] for v in names if v != g}
        cols[g] = "id"
        return self.add(f"SELECT {', '.join(sel + _hidden(rel))} FROM {rel.name} r", cols,
                        rel.nullable - {g}, rel.order)

    def named_graphs(self, var: str) -> Rel:
        """One row per named graph of the dataset, bound to ``var``."""
        named = self.dataset.named
        if named is None:
            sql = f"SELECT DISTINCT g AS {col(None, var)} FROM quads WHERE g IS NOT NULL"
        elif named:
            sql = f"SELECT DISTINCT g AS {col(None, var)} FROM quads WHERE g IN ({', '.join(map(str, named))})"
        else:
            return self.empty({var: "id"})
        return self.add(sql, {var: "id"})

    def _Filter(self, node, graph):
        conjuncts = _conjuncts(node.expr)
        if node.p.name == "BGP":
            return self._BGP(node.p, graph, conjuncts)
        inner, conjuncts = pushdown.place(node.p, conjuncts)
        rel = self.compile(inner, graph)
        return self.filter(rel, conjuncts) if conjuncts else rel

    def filter(self, rel: Rel, conjuncts: list) -> Rel:
        ex = self.exprs("r", rel)
        where = " AND ".join(as_bool(ex(c)).sql for c in conjuncts) or "TRUE"
        return self.add(f"SELECT r.* FROM {rel.name} r WHERE {where}", rel.cols, rel.nullable, rel.order)

    # -- joins ----------------------------------------------------------------------------
    def _Join(self, node, graph):
        return self.join(self.compile(node.p1, graph), self.compile(node.p2, graph),
                         spatial=pushdown.hints(node))

    def join(self, a: Rel, b: Rel, left: bool = False, cond=None, spatial=()) -> Rel:
        a, b, meet = self._envelopes(a, b, spatial, left)
        shared = [v for v in a.cols if v in b.cols]
        on = [_compatible(a, b, v) for v in shared] + meet
        cols, sel = {}, []
        for v, k in a.cols.items():
            if v in b.cols:
                kind = k if k == b.cols[v] else "nt"
                ea, eb = _as(kind, "a", v, k), _as(kind, "b", v, b.cols[v])
                either = v in a.nullable or v in b.nullable
                sel.append(f"{'COALESCE(' + ea + ', ' + eb + ')' if either else ea} AS {col(None, v)}")
                cols[v] = kind
            else:
                sel.append(f"a.{col(None, v)}")
                cols[v] = k
        for v, k in b.cols.items():
            if v not in a.cols:
                sel.append(f"b.{col(None, v)}")
                cols[v] = k
        nullable = (a.nullable | b.nullable) - {v for v in shared if v not in a.nullable or v not in b.nullable}
        if left:
            nullable |= set(b.cols) - set(a.cols)
        if cond is not None:
            merged = Rel("m", cols)
            ex = ExprCompiler("m", cols, self.cat.term_id, self._exists, self.now_nt, self.base)
            # evaluate the OPTIONAL's filter over the merged row, written in terms of a and b
            on.append(_inline_merged(as_bool(ex(cond)).sql, sel, merged))
        join = "LEFT JOIN" if left else ("JOIN" if on else "CROSS JOIN")
        on_sql = f" ON {' AND '.join(on)}" if on else (" ON TRUE" if left else "")
        sql = f"SELECT {', '.join(sel) or '1 AS one'} FROM {a.name} a {join} {b.name} b{on_sql}"
        return self.add(sql, cols, nullable)

    def _envelopes(self, a: Rel, b: Rel, cands, left: bool):
        """Envelope columns on both sides for each spatial candidate linking them (id columns),
        and the overlap conditions that make the engine run a spatial join."""
        meet = []
        for k, cand in enumerate(cands):
            if cand.var_a in b.cols and cand.var_b in a.cols:
                cand = spatial.Candidate(cand.var_b, cand.var_a, metres=cand.metres, degrees=cand.degrees)
            if a.cols.get(cand.var_a) != "id" or b.cols.get(cand.var_b) != "id":
                continue
            env = col(None, f"env{len(self.ctes)}_{k}")
            a = self._with_envelope(a, cand.var_a, cand, env, "LEFT JOIN" if left else "JOIN")
            b = self._with_envelope(b, cand.var_b, spatial.Candidate(cand.var_b), env, "JOIN")
            meet.append(spatial.envelopes_meet(f"a.{env}", f"b.{env}"))
        return a, b, meet

    def _with_envelope(self, rel: Rel, var: str, cand, env: str, join: str) -> Rel:
        sql = (f"SELECT r.*, {spatial.envelope_sql('gm', cand)} AS {env} FROM {rel.name} r "
               f"{join} geoms gm ON gm.id = r.{col(None, var)}")
        return self.add(sql, rel.cols, rel.nullable, rel.order)

    def _LeftJoin(self, node, graph):
        expr = node.expr
        cond = None if expr is None or _is_true(expr) else expr
        hints = pushdown.link_hints(node.p1, node.p2, _conjuncts(cond)) if cond is not None else []
        a, b = self.compile(node.p1, graph), self.compile(node.p2, graph)
        return self.join(a, b, left=True, cond=cond, spatial=hints)

    def _Union(self, node, graph):
        a, b = self.compile(node.p1, graph), self.compile(node.p2, graph)
        names = list(a.cols) + [v for v in b.cols if v not in a.cols]
        cols = {v: ("id" if a.cols.get(v, "id") == "id" and b.cols.get(v, "id") == "id" else "nt")
                for v in names}

        def side(r: Rel) -> str:
            parts = [(_as(cols[v], "r", v, r.cols[v]) if v in r.cols else
                      f"CAST(NULL AS {'BIGINT' if cols[v] == 'id' else 'VARCHAR'})") + f" AS {col(None, v)}"
                     for v in names]
            return f"SELECT {', '.join(parts) or '1 AS one'} FROM {r.name} r"

        nullable = a.nullable | b.nullable | (set(a.cols) ^ set(b.cols))
        return self.add(f"{side(a)} UNION ALL {side(b)}", cols, nullable)

    def _Minus(self, node, graph):
        a, b = self.compile(node.p1, graph), self.compile(node.p2, graph)
        shared = [v for v in a.cols if v in b.cols]
        if not [v for v in shared if not v.startswith(HIDDEN_GRAPH)]:  # disjoint domains
            return a
        conds = " AND ".join(_compatible(Rel("r", a.cols, a.nullable), Rel("m", b.cols, b.nullable), v,
                                         "r", "m") for v in shared)
        some = " OR ".join(f"(r.{col(None, v)} IS NOT NULL AND m.{col(None, v)} IS NOT NULL)" for v in shared
                           if not v.startswith(HIDDEN_GRAPH))
        sql = (f"SELECT r.* FROM {a.name} r WHERE NOT EXISTS (SELECT 1 FROM {b.name} m "
               f"WHERE {conds} AND ({some}))")
        return self.add(sql, a.cols, a.nullable)

    def _exists(self, pattern, alias: str, cols: dict, negate: bool) -> str:
        if isinstance(pattern, CompValue) and pattern.name.startswith("GroupGraphPattern"):
            pattern = algebra.translateGroupGraphPattern(pattern)
        inner = self.compile(pattern, self._graph_ctx)
        outer = Rel(alias, cols, set(cols))
        conds = [_compatible(outer, inner, v, alias, "x") for v in inner.cols if v in cols]
        where = " AND ".join(conds) or "TRUE"
        return f"({'NOT ' if negate else ''}EXISTS (SELECT 1 FROM {inner.name} x WHERE {where}))"

    _graph_ctx = None

    def path_view(self, path, graph) -> str:
        """Evaluate a property path in Arrow and register it as a view (s, o, g)."""
        from .bgp import _graph_condition
        from .paths import PathEvaluator, to_view_table

        conds = _graph_condition(self, graph)[0]
        where = " AND ".join(conds) if conds is not False else "FALSE"
        return self.cat.register(to_view_table(PathEvaluator(self, where or "TRUE").edges(path)))

    # -- solution modifiers --------------------------------------------------------------
    def _Extend(self, node, graph):
        rel = self.compile(node.p, graph)
        if node.var is None:  # GROUP BY (expr) without AS: rdflib leaves the name out
            node.var = Variable(f"__group_expr_{len(self.ctes)}")
            self.unnamed_group = node.var
        v = str(node.var)
        e = as_term(self.exprs("r", rel)(node.expr))
        cols = {**rel.cols, v: e.kind}
        sel = ", ".join([*(f"r.{col(None, c)}" for c in rel.cols if c != v), f"{e.sql} AS {col(None, v)}",
                         *_hidden(rel)])
        return self.add(f"SELECT {sel} FROM {rel.name} r", cols, rel.nullable | {v}, rel.order)

    def _OrderBy(self, node, graph):
        rel = self.compile(node.p, graph)
        ex = self.exprs("r", rel)
        keys, order = [], []
        for i, cond in enumerate(node.expr):
            desc = isinstance(cond, CompValue) and cond.name == "OrderCondition" and cond.order == "DESC"
            e = cond.expr if isinstance(cond, CompValue) and cond.name == "OrderCondition" else cond
            keys.append(f"sp_key({as_term(ex(e)).sql}) AS k{len(self.ctes)}_{i}")
            order.append(f"k{len(self.ctes)}_{i} {'DESC NULLS LAST' if desc else 'ASC NULLS FIRST'}")
        sel = ", ".join(["r.*", *keys])
        return self.add(f"SELECT {sel} FROM {rel.name} r", rel.cols, rel.nullable, order)

    def _Project(self, node, graph):
        rel = self.compile(node.p, graph)
        names = [str(v) for v in node.PV if isinstance(v, Variable)]
        names += [v for v in rel.cols if v.startswith(HIDDEN_GRAPH) and v not in names]
        parts, cols = [], {}
        for v in names:
            if v in rel.cols:
                parts.append(f"r.{col(None, v)}")
                cols[v] = rel.cols[v]
            else:
                parts.append(f"CAST(NULL AS VARCHAR) AS {col(None, v)}")
                cols[v] = "nt"
        sel = ", ".join([*parts, *_hidden(rel)]) or "1 AS one"
        return self.add(f"SELECT {sel} FROM {rel.name} r", cols, rel.nullable & set(names) |
                        (set(names) - set(rel.cols)), rel.order)

    def _Distinct(self, node, graph):
        rel = self.compile(node.p, graph)
        names = [col(None, v) for v in rel.cols]
        if not rel.order:
            sel = ", ".join(names) or "1 AS one"
            return self.add(f"SELECT DISTINCT {sel} FROM {rel.name}", rel.cols, rel.nullable)
        aggs, order = [], []
        for item in rel.order:
            key, direction = item.split(" ", 1)
            aggs.append(f"{'MAX' if direction.startswith('DESC') else 'MIN'}({key}) AS {key}")
            order.append(item)
        group = f" GROUP BY {', '.join(names)}" if names else ""
        sql = f"SELECT {', '.join([*names, *aggs])} FROM {rel.name}{group}"
        return self.add(sql, rel.cols, rel.nullable, order)

    _Reduced = _Distinct

    def _Slice(self, node, graph):
        rel = self.compile(node.p, graph)
        tail = _order_sql(rel)
        if node.length is not None:
            tail += f" LIMIT {int(node.length)}"
        if node.start:
            tail += f" OFFSET {int(node.start)}"
        sel = ", ".join([f"r.{col(None, v)}" for v in rel.cols] + [f"r.{k}" for k in _hidden_names(rel)])
        return self.add(f"SELECT {sel or '1 AS one'} FROM {rel.name} r{tail}", rel.cols, rel.nullable, rel.order)

    # -- grouping -----------------------------------------------------------------------
    def _AggregateJoin(self, node, graph):
        from .groups import compile_aggregates

        return compile_aggregates(self, node, graph)

    def _Group(self, node, graph):
        from .groups import compile_aggregates

        return compile_aggregates(self, CompValue("AggregateJoin", A=[], p=node), graph)


def _conjuncts(expr) -> list:
    if isinstance(expr, CompValue) and expr.name == "ConditionalAndExpression":
        out = []
        for x in [expr.expr, *(expr.other or [])]:
            out.extend(_conjuncts(x))
        return out
    return [expr]


def _is_true(expr) -> bool:
    return isinstance(expr, CompValue) and expr.name == "TrueFilter"


def _as(kind: str, alias: str, v: str, have: str) -> str:
    c = f"{alias}.{col(None, v)}"
    return c if kind == have or kind == "id" else f"sp_nt({c})"


def _compatible(a: Rel, b: Rel, v: str, an: str = "a", bn: str = "b") -> str:
    """SPARQL compatibility of ``v`` in two solutions: equal, or unbound on one side."""
    ka, kb = a.cols[v], b.cols[v]
    kind = ka if ka == kb else "nt"
    ea, eb = _as(kind, an, v, ka), _as(kind, bn, v, kb)
    test = f"{ea} = {eb}"
    nulls = [f"{e} IS NULL" for e, r in ((ea, a), (eb, b)) if v in r.nullable]
    return f"({test} OR {' OR '.join(nulls)})" if nulls else test


def _hidden_names(rel: Rel) -> list[str]:
    return [item.split(" ", 1)[0] for item in rel.order]


def _hidden(rel: Rel) -> list[str]:
    return [f"r.{k}" for k in _hidden_names(rel)]


def _order_sql(rel: Rel) -> str:
    return f" ORDER BY {', '.join('r.' + o for o in rel.order)}" if rel.order else ""


def _inline_merged(cond_sql: str, select_items: list[str], merged: Rel) -> str:
    """Rewrite ``m."v_x"`` references of a condition into the expressions that define them."""
    for item in select_items:
        expr, _, alias = item.rpartition(" AS ")
        if not expr:  # a plain column reference "a."v_x""
            expr, alias = item, item.split(".", 1)[1]
        cond_sql = cond_sql.replace(f"m.{alias}", f"({expr})")
    return cond_sql

"""SPARQL expressions -> SQL expressions over a relation's variable columns.

A compiled expression is an :class:`Expr`: SQL text and its kind, ``id`` (a term id column),
``nt`` (a term as canonical N-Triples text) or ``bool`` (an SQL boolean; null = error).
Built-in functions run as the vectorised UDFs ``sp(name, args...)`` (a term) and
``spb(name, args...)`` (its effective boolean value) registered by the engine; SQL's own
AND / OR / NOT / COALESCE / CASE give SPARQL's three-valued logic since an error is NULL.
"""
from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked.errors import QueryError
from eolinked.vocab import XSD

TRUE_NT = f'"true"^^<{XSD}boolean>'
FALSE_NT = f'"false"^^<{XSD}boolean>'


@dataclass
class Expr:
    sql: str
    kind: str  # "id" | "nt" | "bool"


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def col(alias: str | None, var: str) -> str:
    name = '"v_' + var.replace('"', '""') + '"'
    return f"{alias}.{name}" if alias else name


def term_nt(term) -> str:
    """Canonical N-Triples text of an rdflib term (see eolinked.terms)."""
    from eolinked.terms import Terms, to_nt

    if isinstance(term, URIRef):
        return "<" + str(term) + ">"
    if isinstance(term, BNode):
        return "_:" + str(term)
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype else f"{XSD}string"
        return to_nt(Terms.literals([str(term)], datatype=dt, lang=[term.language])).to_pylist()[0]
    raise QueryError(f"not an RDF term: {term!r}")


def as_term(e: Expr) -> Expr:
    if e.kind != "bool":
        return e
    return Expr(f"(CASE WHEN {e.sql} THEN {sql_str(TRUE_NT)} WHEN NOT ({e.sql}) THEN "
                f"{sql_str(FALSE_NT)} END)", "nt")


def as_nt(e: Expr) -> Expr:
    e = as_term(e)
    return e if e.kind == "nt" else Expr(f"sp_nt({e.sql})", "nt")


def as_bool(e: Expr) -> Expr:
    return e if e.kind == "bool" else Expr(f"spb('EBV', {e.sql})", "bool")


_RELATIONS = {"=": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_SPECIAL = {"Builtin_BOUND", "Builtin_IF", "Builtin_COALESCE", "Builtin_EXISTS", "Builtin_NOTEXISTS",
            "Builtin_sameTerm"}


class ExprCompiler:
    """Compiles expressions against the columns of one relation row (``alias``)."""

    def __init__(self, alias: str, cols: dict[str, str], resolve, exists=None, now_nt: str = "",
                 base: str | None = None):
        self.alias, self.cols, self.resolve = alias, cols, resolve
        self.exists, self.now_nt, self.base = exists, now_nt, base

    def __call__(self, node) -> Expr:
        if isinstance(node, Variable):
            v = str(node)
            if v not in self.cols:
                return Expr("CAST(NULL AS VARCHAR)", "nt")
            return Expr(col(self.alias, v), self.cols[v])
        if isinstance(node, (URIRef, Literal, BNode)):
            return Expr(sql_str(term_nt(node)), "nt")
        if not isinstance(node, CompValue):
            raise QueryError(f"unsupported expression {node!r}")
        name = node.name
        if name == "ConditionalAndExpression":
            parts = [as_bool(self(x)).sql for x in [node.expr, *(node.other or [])]]
            return Expr("(" + " AND ".join(parts) + ")", "bool")
        if name == "ConditionalOrExpression":
            parts = [as_bool(self(x)).sql for x in [node.expr, *(node.other or [])]]
            return Expr("(" + " OR ".join(parts) + ")", "bool")
        if name == "RelationalExpression":
            return self._relation(node)
        if name in ("AdditiveExpression", "MultiplicativeExpression"):
            acc = self(node.expr)
            for op, other in zip(node.op or [], node.other or []):
                acc = self._call(op, [acc, self(other)])
            return acc
        if name == "UnaryNot":
            return Expr(f"(NOT {as_bool(self(node.expr)).sql})", "bool")
        if name == "UnaryMinus":
            return self._call("UMINUS", [self(node.expr)])
        if name == "UnaryPlus":
            return self._call("UPLUS", [self(node.expr)])
        if name in _SPECIAL:
            return self._special(node)
        if name == "Function":
            return self._call(str(node.iri), [self(a) for a in (node.expr or [])])
        if name.startswith("Builtin_"):
            return self._builtin(name[len("Builtin_"):].upper(), node)
        if name.startswith("Aggregate_"):
            raise QueryError("aggregate outside GROUP BY / SELECT")
        raise QueryError(f"unsupported expression {name}")

    # -- pieces ---------------------------------------------------------------------------
    def _call(self, fname: str, args: list[Expr]) -> Expr:
        inner = ", ".join([sql_str(fname), *(as_term(a).sql for a in args)])
        return Expr(f"sp({inner})", "nt")

    def _relation(self, node) -> Expr:
        op, left = node.op, self(node.expr)
        if op in ("IN", "NOT IN"):
            items = [self(x) for x in _items(node.other)]
            ors = [self._compare("=", left, x) for x in items]
            inside = "(" + " OR ".join(e.sql for e in ors) + ")" if ors else "FALSE"
            return Expr(inside if op == "IN" else f"(NOT {inside})", "bool")
        return self._compare(_RELATIONS[op], left, self(node.other))

    def _compare(self, op: str, left: Expr, right: Expr) -> Expr:
        fast = self._same_iri(op, left, right) or self._same_iri(op, right, left)
        if fast:
            return fast
        return Expr(f"spb({sql_str(op)}, {as_term(left).sql}, {as_term(right).sql})", "bool")

    def _same_iri(self, op: str, var: Expr, const: Expr) -> Expr | None:
        """``?x = <iri>`` on a term-id column compares ids (IRIs are equal only when identical)."""
        if op not in ("=", "!=") or var.kind != "id" or not const.sql.startswith("'<"):
            return None
        nt = const.sql[1:-1].replace("''", "'")
        tid = self.resolve(nt)
        if tid is None:
            return Expr(f"({var.sql} IS NOT NULL AND {'FALSE' if op == '=' else 'TRUE'})", "bool")
        return Expr(f"({var.sql} {'=' if op == '=' else '<>'} {tid})", "bool")

    def _builtin(self, fname: str, node) -> Expr:
        if fname == "NOW":
            return Expr(sql_str(self.now_nt), "nt")
        args = _builtin_args(node)
        if fname in ("RAND", "UUID", "STRUUID") or (fname == "BNODE" and not args):
            return Expr(f"spv({sql_str(fname)}, {self._row_seed()})", "nt")
        if fname == "BNODE":
            return Expr(f"sp('BNODE', {as_term(self(args[0])).sql}, {self._row_seed()})", "nt")
        if fname == "REGEX" and len(args) == 2:
            args.append(Literal(""))
        if fname == "CONCAT" and not args:
            return Expr("'\"\"'", "nt")
        if fname in ("IRI", "URI") and self.base:
            return self._call(fname, [self(args[0]), Expr(sql_str(f"<{self.base}>"), "nt")])
        return self._call(fname, [self(a) for a in args])

    def _row_seed(self) -> str:
        """Text that differs between solutions and stays the same across the BINDs of one: the
        terms the pattern matched (term ids; computed values are left out) and the query's time,
        as a simple literal (the UDFs read their arguments as N-Triples terms)."""
        parts = [f"COALESCE(CAST({col(self.alias, v)} AS VARCHAR), '')" for v, k in self.cols.items() if k == "id"]
        now = sql_str(self.now_nt.split('"')[1])
        return "concat('\"', concat_ws(' ', " + ", ".join([now, *parts]) + "), '\"')"

    def _special(self, node) -> Expr:
        name = node.name
        if name == "Builtin_BOUND":
            return Expr(f"({self(node.arg).sql} IS NOT NULL)", "bool")
        if name == "Builtin_sameTerm":
            a, b = self(node.arg1), self(node.arg2)
            if a.kind == b.kind == "id":
                return Expr(f"({a.sql} = {b.sql})", "bool")
            return Expr(f"({as_nt(a).sql} = {as_nt(b).sql})", "bool")
        if name == "Builtin_IF":
            cond = as_bool(self(node.arg1)).sql
            a, b = as_nt(self(node.arg2)).sql, as_nt(self(node.arg3)).sql
            return Expr(f"(CASE WHEN {cond} THEN {a} WHEN NOT ({cond}) THEN {b} END)", "nt")
        if name == "Builtin_COALESCE":
            args = [as_nt(self(a)).sql for a in _items(node.arg)]
            return Expr(f"COALESCE({', '.join(args)})" if args else "CAST(NULL AS VARCHAR)", "nt")
        if self.exists is None:
            raise QueryError("EXISTS is not allowed here")
        return Expr(self.exists(node.graph, self.alias, self.cols, negate=name == "Builtin_NOTEXISTS"),
                    "bool")


def _items(value) -> list:
    """An argument list; rdflib gives rdf:nil for an empty one."""
    if value is None or (isinstance(value, URIRef) and str(value).endswith("#nil")):
        return []
    return list(value) if isinstance(value, list) else [value]


def _builtin_args(node) -> list:
    out = []
    for key, value in node.items():
        if key == "_vars" or value is None or not _items(value):
            continue
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out

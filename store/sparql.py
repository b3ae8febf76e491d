"""Parse SPARQL text into rdflib's SPARQL algebra, with errors that say where and why."""
from __future__ import annotations

import re
import threading

import rdflib
from pyparsing import ParseException
from rdflib import Variable
from rdflib.plugins.sparql import algebra, parser
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked.errors import QuerySyntaxError
from eolinked.geosparql import GEO_AGGREGATES

_LOCK = threading.Lock()


def parse(text: str, base: str | None = None):
    """SPARQL text -> rdflib algebra ``Query``; raises QuerySyntaxError naming line and column.
    Literals keep their lexical form as written (rdflib would normalise "01"^^xsd:integer)."""
    with _LOCK:  # the switch is global in rdflib
        saved, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
        try:
            return _parse(text, base)
        finally:
            rdflib.NORMALIZE_LITERALS = saved


def _parse(text: str, base: str | None):
    try:
        tree = parser.parseQuery(text)
    except ParseException as exc:
        raise QuerySyntaxError(
            f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {_reason(exc)}\n"
            f"  {exc.line}\n  {' ' * (exc.col - 1)}^\n"
            "Check the query near that position (a missing '.', '}' or prefix declaration is typical).",
            line=exc.lineno, column=exc.col) from None
    except Exception as exc:  # rdflib raises plain exceptions for some malformed queries
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}", line=None, column=None) from None
    _check_projection(tree)
    _check_grouping(tree[-1])
    try:
        return algebra.translateQuery(tree, base=base)
    except Exception as exc:  # prefix not declared, variables reused illegally, ...
        raise QuerySyntaxError(f"invalid SPARQL query: {_plain(exc)}", line=None, column=None) from None


def _reason(exc: ParseException) -> str:
    msg = str(exc.msg)
    return re.sub(r"\s+", " ", msg)[:200]


def _plain(exc: Exception) -> str:
    return re.sub(r"\s+", " ", str(exc))[:300] or type(exc).__name__


def _check_projection(tree) -> None:
    """SELECT (e AS ?x) may not reuse a variable name of the same projection."""
    query = tree[-1]
    items = query["projection"] if hasattr(query, "keys") and "projection" in query else []
    seen = set()
    for item in items:
        if not hasattr(item, "keys"):
            continue
        if "evar" in item and str(item["evar"]) in seen:
            raise QuerySyntaxError(f"the variable ?{item['evar']} is projected twice", line=None, column=None)
        for key in ("evar", "var"):
            if key in item:
                seen.add(str(item[key]))


def _check_grouping(query) -> None:
    """With GROUP BY or aggregates, SELECT may only use grouped variables outside aggregates."""
    if not hasattr(query, "keys") or "projection" not in query:
        return
    items = [i for i in query["projection"] if hasattr(i, "keys")]
    group = query["groupby"] if "groupby" in query else None
    has_agg = any(_aggregated(i["expr"]) for i in items if "expr" in i)
    if group is None and not has_agg:
        return
    allowed = set()
    for cond in (group["condition"] if group is not None else []):
        if isinstance(cond, Variable):
            allowed.add(str(cond))
        elif hasattr(cond, "keys") and "var" in cond:
            allowed.add(str(cond["var"]))
        elif _is_plain_variable(cond):
            allowed.add(str(_is_plain_variable(cond)))
    for item in items:
        used = _free_variables(item["expr"]) if "expr" in item else {str(item["var"])} if "var" in item else set()
        bad = sorted(used - allowed)
        if bad:
            raise QuerySyntaxError(f"?{bad[0]} is selected but neither grouped nor aggregated",
                                   line=None, column=None)
        if "evar" in item:
            allowed.add(str(item["evar"]))


_AGGREGATE_NAMES = {iri.rsplit("/", 1)[-1] for iri in GEO_AGGREGATES}


def _is_aggregate(node) -> bool:
    """An aggregate call: SPARQL's, or a GeoSPARQL one (geof:aggUnion, ... maybe a prefixed name)."""
    if node.name.startswith("Aggregate_"):
        return True
    if node.name != "Function" or "iri" not in node:
        return False
    iri = node["iri"]
    return (str(iri) in GEO_AGGREGATES or
            (hasattr(iri, "keys") and "localname" in iri and iri["localname"] in _AGGREGATE_NAMES))


def _aggregated(node) -> bool:
    if isinstance(node, CompValue):
        return _is_aggregate(node) or any(_aggregated(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_aggregated(v) for v in node)
    return False


def _free_variables(node) -> set:
    """Variables of an expression outside aggregate calls."""
    if isinstance(node, Variable):
        return {str(node)}
    if isinstance(node, CompValue):
        if _is_aggregate(node) or node.name.startswith("Builtin_") and "EXISTS" in node.name:
            return set()
        return set().union(*(_free_variables(v) for k, v in node.items() if k != "_vars"))
    if isinstance(node, (list, tuple)):
        return set().union(*(_free_variables(v) for v in node))
    return set()


def _is_plain_variable(node):
    """The variable a bracketed GROUP BY expression consists of, if it is just one."""
    while isinstance(node, CompValue) and len([k for k in node if k != "_vars"]) == 1 and "expr" in node:
        node = node["expr"]
    return node if isinstance(node, Variable) else None

"""Parse SPARQL text into rdflib's SPARQL algebra, with errors that say where and why."""
from __future__ import annotations

import re
import threading

import rdflib
from pyparsing import ParseException
from rdflib.plugins.sparql import algebra, parser

from eolinked.errors import QuerySyntaxError

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

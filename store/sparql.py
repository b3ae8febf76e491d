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
    try:
        return algebra.translateQuery(tree, base=base)
    except Exception as exc:  # prefix not declared, variables reused illegally, ...
        raise QuerySyntaxError(f"invalid SPARQL query: {_plain(exc)}", line=None, column=None) from None


def _reason(exc: ParseException) -> str:
    msg = str(exc.msg)
    return re.sub(r"\s+", " ", msg)[:200]


def _plain(exc: Exception) -> str:
    return re.sub(r"\s+", " ", str(exc))[:300] or type(exc).__name__

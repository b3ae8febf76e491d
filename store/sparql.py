"""Parse SPARQL text into rdflib's SPARQL algebra, with errors that say where and why."""
from __future__ import annotations

import re
import threading

import rdflib
from pyparsing import Literal, ParseException
from rdflib.plugins.sparql import algebra, parser
from rdflib.plugins.sparql.parserutils import Comp, Param

from eolinked.errors import QuerySyntaxError

from .checks import check_query

_LOCK = threading.Lock()


def _keep_inverse_iris_in_negated_sets() -> None:
    """rdflib's grammar drops the IRI of ``^iri`` inside ``!(...)``: capture it as ``path``."""
    for alt in parser.PathOneInPropertySet.exprs:
        if isinstance(alt, Comp) and alt.name == "InversePath":
            alt.expr = Literal("^") + Param("path", parser.iri | parser.A)


def _keep_empty_values() -> None:
    """rdflib translates ``VALUES () { () ... }`` and ``VALUES ?x { }`` to ``[]``, which the
    compiler cannot read: make them a table of as many empty solutions as rows."""
    translate = algebra.translateValues

    def rows_kept(v):
        return translate(v) if v.var and v.value else algebra.Values([{} for _ in v.value or []])

    algebra.translateValues = rows_kept


_keep_inverse_iris_in_negated_sets()
_keep_empty_values()


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
    check_query(tree)
    query = tree[-1]
    if "valuesClause" in query and not query["valuesClause"]:  # VALUES () { }: rdflib skips it
        query["valuesClause"]["value"] = []
    try:
        return algebra.translateQuery(tree, base=base)
    except Exception as exc:  # prefix not declared, variables reused illegally, ...
        raise QuerySyntaxError(f"invalid SPARQL query: {_plain(exc)}", line=None, column=None) from None


def _reason(exc: ParseException) -> str:
    msg = str(exc.msg)
    return re.sub(r"\s+", " ", msg)[:200]


def _plain(exc: Exception) -> str:
    return re.sub(r"\s+", " ", str(exc))[:300] or type(exc).__name__

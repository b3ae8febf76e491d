"""Parse SPARQL text into rdflib's SPARQL algebra, with errors that say where and why.

rdflib's parser is patched here where it departs from SPARQL 1.1: backslash escapes in prefixed
names (``ex:a\\.b`` is ``<...a.b>``), relative IRIs and BASE resolved as RFC 3986 says, signed
numbers kept as written (``-1.0``, ``+1.5``), ``^iri`` in negated property sets, empty VALUES.
The positions of function calls are kept so that the static checks (:mod:`store.checks`) can
name line and column.
"""
from __future__ import annotations

import re
import threading

import rdflib
from pyparsing import Literal, ParseException, ParseResults, col, lineno
from rdflib import URIRef
from rdflib.term import Identifier, Literal as RDFLiteral, Variable
from rdflib.plugins.sparql import algebra, parser
from rdflib.plugins.sparql import sparql as rdflib_sparql
from rdflib.plugins.sparql.parserutils import Comp, CompValue, Param

from eolinked.errors import QuerySyntaxError

from .checks import check_calls, check_query, star_scope

_LOCK = threading.Lock()
_POSITIONS: dict[int, tuple[object, int]] = {}  # id(call node) -> (node, offset), for one parse under _LOCK
_PN_LOCAL_ESC = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_URI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.S)


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


def _unescape_local_names() -> None:
    """PN_LOCAL_ESC: ``ex:a\\/b`` names ``<...a/b>`` (rdflib keeps the backslash); %HH stays as written."""
    parser.PN_LOCAL.add_parse_action(lambda toks: _PN_LOCAL_ESC.sub(r"\1", toks[0]))


def _signed_numbers_as_written() -> None:
    """A signed number is the literal with the lexical form as written (SPARQL 1.1, 19.8): rdflib
    negates the value instead (``-1.0`` fails, ``-1.5e-3`` becomes ``-0.0015``) and drops the sign
    of ``+1.5``."""
    def signed(sign: str):
        def action(_text, _loc, toks):
            return rdflib.Literal(sign + str(toks[0]), datatype=toks[0].datatype)
        return action

    for element, sign in ((parser.INTEGER_NEGATIVE, "-"), (parser.DECIMAL_NEGATIVE, "-"),
                          (parser.DOUBLE_NEGATIVE, "-"), (parser.INTEGER_POSITIVE, "+"),
                          (parser.DECIMAL_POSITIVE, "+"), (parser.DOUBLE_POSITIVE, "+")):
        element.set_parse_action(signed(sign))
    # in an expression too, "-1.0" is one token (a literal), not the negation of 1.0
    parser.UnaryExpression.exprs.insert(0, parser.NumericLiteralPositive | parser.NumericLiteralNegative)


def _remember(_text, loc, toks) -> None:
    for tok in toks:
        if isinstance(tok, CompValue):
            _POSITIONS[id(tok)] = (tok, loc)


def _remember_call_positions() -> None:
    """Function calls (``iri(args)``) keep where they start in the query text."""
    parser.FunctionCall.add_parse_action(_remember)
    for alt in parser.iriOrFunction.exprs:
        if isinstance(alt, Comp):
            alt.add_parse_action(_remember)


def resolve_iri(ref: str, base: str | None) -> str:
    """RFC 3986 (section 5.2) resolution of the IRI reference ``ref`` against ``base``."""
    if not base or _SCHEME.match(ref):
        return ref
    _, auth, path, query, frag = _URI_PARTS.match(ref).groups()
    b_scheme, b_auth, b_path, b_query, _ = _URI_PARTS.match(base).groups()
    if auth is not None:
        path = _remove_dot_segments(path)
    else:
        if path == "":
            path = b_path
            query = b_query if query is None else query
        elif path.startswith("/"):
            path = _remove_dot_segments(path)
        else:
            if b_auth is not None and b_path == "":
                merged = "/" + path
            else:
                merged = b_path[:b_path.rfind("/") + 1] + path
            path = _remove_dot_segments(merged)
        auth = b_auth
    out = f"{b_scheme}:" if b_scheme is not None else ""
    out += f"//{auth}" if auth is not None else ""
    out += path
    out += f"?{query}" if query is not None else ""
    return out + (f"#{frag}" if frag is not None else "")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./"):
            path = path[2:]
        elif path.startswith("/./") or path == "/.":
            path = "/" + path[3:]
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:]
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            cut = path.find("/", 1)
            segment = path if cut < 0 else path[:cut]
            out.append(segment)
            path = path[len(segment):]
    return "".join(out)


def _resolve_relative_iris() -> None:
    """Relative IRIs (also ``<a/b:c>``) resolve against the base by RFC 3986, and a relative BASE
    against the BASE before it (rdflib only resolves IRIs without ':' and keeps a BASE as written)."""
    absolutize = rdflib_sparql.Prologue.absolutize

    def absolutize_rfc3986(self, iri):
        if isinstance(iri, URIRef) and self.base and not _SCHEME.match(iri):
            return URIRef(resolve_iri(str(iri), self.base))
        return absolutize(self, iri)

    rdflib_sparql.Prologue.absolutize = absolutize_rfc3986
    translate = algebra.translatePrologue

    def translate_prologue(p, base, initNs=None, prologue=None):
        bases = [x for x in p if getattr(x, "name", None) == "Base"]
        if not bases:
            return translate(p, base, initNs, prologue)
        current = base or ""
        for x in bases:  # each BASE resolves against the one before (or the given base)
            current = resolve_iri(str(x.iri), current)
            x["iri"] = URIRef(current)
        return translate(p, base, initNs, prologue)

    algebra.translatePrologue = translate_prologue


_keep_inverse_iris_in_negated_sets()
_keep_empty_values()
_unescape_local_names()
_signed_numbers_as_written()
_remember_call_positions()
_resolve_relative_iris()


TRUE = RDFLiteral(True)


def _keep_constant_filters(node) -> None:
    """FILTER(false), FILTER(0), FILTER(""): rdflib drops a group's filter whose expression is a
    falsy Python value (``if filters:``); as ``constant && true`` (the same truth value, and an
    error where the constant's is) it stays."""
    if isinstance(node, CompValue):
        if node.name == "Filter" and "expr" in node and (term := _lone_term(node["expr"])) is not None:
            node["expr"] = CompValue("ConditionalAndExpression", expr=term, other=[TRUE])
        children = node.values()
    elif isinstance(node, (list, tuple, ParseResults)):
        children = node
    else:
        return
    for child in children:
        _keep_constant_filters(child)


def _lone_term(expr):
    """The constant an expression is, through the grammar's one-operand wrappers, or None."""
    while isinstance(expr, CompValue) and set(expr) <= {"expr", "other", "op"}:
        if ("other" in expr and expr["other"]) or ("op" in expr and expr["op"]):
            return None
        expr = expr["expr"]
    if isinstance(expr, CompValue) and expr.name in ("literal", "pname"):  # resolved later
        return expr
    return expr if isinstance(expr, Identifier) and not isinstance(expr, Variable) else None


def _select_in_scope(alg, scope: set[str] | None) -> None:
    """SELECT *: rdflib also selects the variables of MINUS and FILTER EXISTS patterns."""
    if scope is None:
        return
    alg.PV = [v for v in alg.PV if str(v) in scope]
    node = alg.p
    while node is not None and getattr(node, "name", None) != "Project":
        node = node.get("p") if "p" in node else None
    if node is not None:
        node.PV = alg.PV


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
    _POSITIONS.clear()
    try:
        return _parse_and_check(text, base)
    finally:
        _POSITIONS.clear()


def _parse_and_check(text: str, base: str | None):
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
    _keep_constant_filters(tree)
    query = tree[-1]
    if "valuesClause" in query and not query["valuesClause"]:  # VALUES () { }: rdflib skips it
        query["valuesClause"]["value"] = []
    try:
        q = algebra.translateQuery(tree, base=base)
    except Exception as exc:  # prefix not declared, variables reused illegally, ...
        raise QuerySyntaxError(f"invalid SPARQL query: {_plain(exc)}", line=None, column=None) from None
    _select_in_scope(q.algebra, star_scope(tree))
    expanded = parser.expandUnicodeEscapes(text)  # the text the offsets refer to

    def where(node) -> tuple[int, int] | None:
        seen = _POSITIONS.get(id(node))
        if seen is None or seen[0] is not node:
            return None
        return lineno(seen[1], expanded), col(seen[1], expanded)

    check_calls(q.algebra, where)
    return q


def _reason(exc: ParseException) -> str:
    msg = str(exc.msg)
    return re.sub(r"\s+", " ", msg)[:200]


def _plain(exc: Exception) -> str:
    return re.sub(r"\s+", " ", str(exc))[:300] or type(exc).__name__

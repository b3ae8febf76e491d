"""Static checks of a parsed SPARQL query that rdflib's parser leaves out (SPARQL 1.1, 18.2).

:func:`check_query` (on rdflib's parse tree) raises QuerySyntaxError naming the variable or label:
a projected variable reused, a variable selected but neither grouped nor aggregated, SELECT * with
GROUP BY, BIND or ``(expr AS ?v)`` to a variable already in scope, VALUES rows of the wrong width,
a blank node label shared by two basic graph patterns.

:func:`check_calls` (on the algebra) raises QueryError for a call of a known function with the
wrong number of arguments (every geof: function and aggregate, and the XSD casts; the arity comes
from the function's Python signature) or with a constant of the wrong type (a string or an IRI
where a geometry literal is required, an IRI or a malformed DE-9IM pattern for geof:relate, a
literal as a unit or CRS, a non-number as a radius or index), naming the function and its line
and column, before anything runs.
"""
from __future__ import annotations

import inspect
import re
from functools import lru_cache

from pyparsing import ParseResults
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked.errors import QueryError, QuerySyntaxError
from eolinked.geosparql import GEO_AGGREGATES, GEO_SCALARS
from eolinked.geosparql._core import GEOMETRY_DATATYPES, NUMERIC_DATATYPES
from eolinked.vocab import GEOF, XSD


def check_query(tree) -> None:
    """Raise QuerySyntaxError for the first rule ``tree`` (rdflib's parse result) breaks."""
    query = tree[-1]
    _check_projection(query)
    _check_grouping(query)
    _walk(query, _BlankLabels())


def _error(message: str) -> QuerySyntaxError:
    return QuerySyntaxError(message, line=None, column=None)


def _is_node(node, *names) -> bool:
    return isinstance(node, CompValue) and node.name in names


def _children(node):
    """Sub-nodes to check (a CONSTRUCT template is not a pattern: its blank nodes are free)."""
    if isinstance(node, CompValue):
        return [v for k, v in node.items() if k not in ("_vars", "template")]
    if isinstance(node, (list, tuple, ParseResults)):
        return list(node)
    return []


# -- projection and grouping -----------------------------------------------------------------
def _check_projection(query) -> None:
    """SELECT (e AS ?x) may not reuse a variable name of the same projection."""
    items = query["projection"] if hasattr(query, "keys") and "projection" in query else []
    seen = set()
    for item in items:
        if not hasattr(item, "keys"):
            continue
        if "evar" in item and str(item["evar"]) in seen:
            raise _error(f"the variable ?{item['evar']} is projected twice")
        for key in ("evar", "var"):
            if key in item:
                seen.add(str(item[key]))


def _check_grouping(query) -> None:
    """With GROUP BY or aggregates, SELECT may only use grouped variables outside aggregates."""
    if not _is_node(query, "SelectQuery", "SubSelect"):
        return
    group = query["groupby"] if "groupby" in query else None
    if "projection" not in query:
        if group is not None:
            raise _error("SELECT * cannot be used with GROUP BY: list the grouped variables instead")
        return
    items = [i for i in query["projection"] if hasattr(i, "keys")]
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
            raise _error(f"?{bad[0]} is selected but neither grouped nor aggregated")
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


# -- scope --------------------------------------------------------------------------------------
def _in_scope(node) -> set:
    """Variables a graph pattern binds (SPARQL 1.1, 18.2.1): not those of FILTER or MINUS."""
    if isinstance(node, Variable):
        return {str(node)}
    if _is_node(node, "Filter", "MinusGraphPattern"):
        return set()
    if _is_node(node, "SubSelect"):
        if "projection" not in node:
            return _in_scope(node["where"])
        return {str(i[k]) for i in node["projection"] if hasattr(i, "keys") for k in ("evar", "var") if k in i}
    if _is_node(node, "Bind"):
        return {str(node["var"])}
    return set().union(*(_in_scope(c) for c in _children(node)))


def star_scope(tree) -> set[str] | None:
    """The variables ``SELECT *`` selects (in scope in WHERE: not those inside MINUS or FILTER),
    or None if the query does not select ``*``."""
    query = tree[-1]
    if getattr(query, "name", None) != "SelectQuery" or "projection" in query or "where" not in query:
        return None
    return _in_scope(query["where"])


def _check_group(group) -> None:
    """BIND(e AS ?v) may not bind a variable the preceding patterns of its group bind."""
    bound = set()
    for part in group["part"] if "part" in group else []:
        if _is_node(part, "Bind") and str(part["var"]) in bound:
            raise _error(f"BIND(... AS ?{part['var']}): ?{part['var']} is already bound at that point; "
                         "choose a new variable")
        bound |= _in_scope(part)


def _check_select_scope(query) -> None:
    """SELECT (e AS ?v): ?v may not be bound by the WHERE clause."""
    if "projection" not in query or "where" not in query:
        return
    where = _in_scope(query["where"])
    for item in query["projection"]:
        if hasattr(item, "keys") and "evar" in item and str(item["evar"]) in where:
            raise _error(f"(... AS ?{item['evar']}): ?{item['evar']} is already bound in the WHERE clause; "
                         "choose a new variable")


def _check_values(node) -> None:
    """Every VALUES row has one value per variable."""
    variables = list(node["var"]) if "var" in node else []
    rows = list(node["value"]) if "value" in node else []
    for i, row in enumerate(rows, 1):
        if isinstance(row, ParseResults) and len(row) != len(variables):
            raise _error(f"VALUES row {i} has {len(row)} values for {len(variables)} variables")


class _BlankLabels:
    """Blank node label -> the basic graph pattern it first appeared in."""

    def __init__(self):
        self.where: dict[str, int] = {}
        self.count = 0

    def new_bgp(self) -> int:
        self.count += 1
        return self.count

    def see(self, triples, bgp: int) -> None:
        for term in _terms(triples):
            if isinstance(term, BNode) and self.where.setdefault(str(term), bgp) != bgp:
                raise _error(f"the blank node label _:{term} is used in two basic graph patterns; "
                             "use a variable to join them")


def _terms(node):
    if isinstance(node, (list, tuple, ParseResults)):
        for c in node:
            yield from _terms(c)
    else:
        yield node


def _walk(node, labels: _BlankLabels) -> None:
    """Run the scope, VALUES and blank-label checks on every pattern below ``node``."""
    if _is_node(node, "SelectQuery", "SubSelect"):
        _check_select_scope(node)
    if _is_node(node, "ValuesClause", "InlineData"):
        _check_values(node)
    if _is_node(node, "GroupGraphPatternSub"):
        _check_group(node)
        bgp = None  # consecutive triples blocks (FILTERs between them too) form one BGP
        for part in node["part"] if "part" in node else []:
            if _is_node(part, "TriplesBlock"):
                bgp = bgp or labels.new_bgp()
                labels.see(part["triples"], bgp)
            elif not _is_node(part, "Filter"):
                bgp = None
            _walk(part, labels)
        return
    for child in _children(node):
        _walk(child, labels)


# -- calls of known functions: arity and constant argument types ------------------------------------
# what each parameter of the function library takes, by its name in the Python signature
_PARAM_KINDS = {"a": "geometry", "b": "geometry", "g": "geometry", "pattern": "pattern", "unit": "unit",
                "target": "crs", "radius": "number", "ratio": "number", "n": "number"}
_PARAM_SHOWN = {"a": "geom1", "b": "geom2", "g": "geom", "target": "crs"}
_KIND_TEXT = {"geometry": "a geometry literal (geo:wktLiteral, gmlLiteral, geoJSONLiteral or kmlLiteral)",
              "pattern": "a DE-9IM pattern: a string of 9 characters from T F * 0 1 2",
              "unit": "a unit of measure IRI", "crs": "a CRS IRI", "number": "a numeric literal"}
_KIND_EXAMPLE = {"geometry": '"POINT (23.7 37.9)"^^geo:wktLiteral', "pattern": '"T*F**F***"',
                 "unit": "<http://www.opengis.net/def/uom/OGC/1.0/metre>",
                 "crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>", "number": "10.5"}
_DE9IM = re.compile(r"^[TtFf*012]{9}$")
_STRINGS = {None, XSD + "string"}


@lru_cache(maxsize=1)
def _signatures() -> dict[str, tuple[int, int | None, tuple[str, ...]]]:
    """IRI -> (fewest arguments, most arguments or None, parameter names) of every known IRI function."""
    from .functions import SCALARS

    out = {}
    for iri, fn in {**{k: v for k, v in SCALARS.items() if ":" in k}, **GEO_SCALARS}.items():
        params = list(inspect.signature(fn).parameters.values())
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            out[iri] = (sum(p.default is p.empty for p in params if p.kind != p.VAR_POSITIONAL), None, ())
            continue
        names = tuple(p.name for p in params) if iri in GEO_SCALARS else ("value",) * len(params)
        out[iri] = (sum(p.default is p.empty for p in params), len(params), names)
    for iri in GEO_AGGREGATES:  # geof:aggUnion(?g) & co. take one geometry per solution
        out[iri] = (1, 1, ("g",))
    return out


def _short(iri: str) -> str:
    for prefix, ns in (("geof:", GEOF), ("xsd:", XSD)):
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return f"<{iri}>"


def _arguments(node) -> list:
    args = node["expr"] if "expr" in node else None  # CompValue.get returns the key when it is absent
    if args is None or (isinstance(args, URIRef) and str(args).endswith("#nil")):
        return []
    return list(args) if isinstance(args, (list, tuple, ParseResults)) else [args]


def _constant_problem(kind: str, arg) -> str | None:
    """Why the constant ``arg`` cannot be a ``kind`` argument (None when it can, or is not a constant)."""
    if isinstance(arg, URIRef):
        return None if kind in ("unit", "crs") else f"the IRI <{arg}>"
    if not isinstance(arg, Literal):
        return None
    dt = str(arg.datatype) if arg.datatype is not None else None
    what = f"the literal {arg.n3()[:60]}"
    if kind == "geometry" and dt not in GEOMETRY_DATATYPES:
        return what
    if kind == "pattern":
        if arg.language or dt not in _STRINGS:
            return what
        if not _DE9IM.match(str(arg)):
            return f"{what} (not 9 characters from T F * 0 1 2)"
    if kind in ("unit", "crs") and (arg.language or dt not in (*_STRINGS, XSD + "anyURI")):
        return what
    if kind == "number" and dt not in NUMERIC_DATATYPES:
        return what
    return None


def _plural(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def check_calls(algebra, where) -> None:
    """Raise QueryError for the first call of a known function with a wrong argument count or an
    argument constant of the wrong type; ``where(node)`` gives its (line, column) or None."""
    signatures = _signatures()
    for node in _calls(algebra):
        iri = str(node["iri"]) if "iri" in node else ""
        if iri not in signatures:
            continue
        lo, hi, names = signatures[iri]
        args = _arguments(node)
        pos = where(node)
        at = f" at line {pos[0]}, column {pos[1]}" if pos else ""
        name = _short(iri)
        if len(args) < lo or (hi is not None and len(args) > hi):
            takes = _plural(lo) if lo == hi else f"{lo} to {hi} arguments" if hi else f"at least {_plural(lo)}"
            shown = [_PARAM_SHOWN.get(n, n) for n in names]
            shape = f"{name}({', '.join(shown[:lo])}" + (f"[, {', '.join(shown[lo:])}]" if hi and hi > lo else "")
            raise QueryError(f"{name}{at} takes {takes}, not {len(args)}", hint=f"call it as {shape})")
        for i, (arg, pname) in enumerate(zip(args, names), 1):
            kind = _PARAM_KINDS.get(pname) if iri in GEO_SCALARS or iri in GEO_AGGREGATES else None
            problem = _constant_problem(kind, arg) if kind else None
            if problem:
                shown = _PARAM_SHOWN.get(pname, pname)
                raise QueryError(f"{name}{at}: argument {i} ({shown}) is {problem}, "
                                 f"but must be {_KIND_TEXT[kind]}",
                                 hint=f"pass e.g. {_KIND_EXAMPLE[kind]}, or a variable bound to such a term")


def _calls(node):
    """Every function call (``Function`` node) in the algebra, outermost first."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, CompValue):
            if n.name == "Function":
                yield n
            stack.extend(reversed([v for k, v in n.items() if k != "_vars"]))
        elif isinstance(n, (list, tuple, ParseResults)):
            stack.extend(reversed(list(n)))
        elif isinstance(n, dict):
            stack.extend(reversed(list(n.values())))

"""Static checks of a parsed SPARQL query that rdflib's parser leaves out (SPARQL 1.1, 18.2).

Each raises QuerySyntaxError naming the variable or label: a projected variable reused, a variable
selected but neither grouped nor aggregated, SELECT * with GROUP BY, BIND or ``(expr AS ?v)`` to a
variable already in scope, VALUES rows of the wrong width, a blank node label shared by two basic
graph patterns.
"""
from __future__ import annotations

from pyparsing import ParseResults
from rdflib import BNode, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from eolinked.errors import QuerySyntaxError
from eolinked.geosparql import GEO_AGGREGATES


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

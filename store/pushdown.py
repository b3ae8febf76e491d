"""Spatial FILTERs placed where the planner can prune with them, whatever else the group holds.

rdflib puts a group's FILTER above its BIND (Extend), OPTIONAL (LeftJoin) and VALUES / sub-group
(Join) nodes.  A spatial conjunct (see :mod:`store.spatial`) whose variables are certainly bound
in one basic graph pattern below moves into that pattern's FILTER (equivalent: the values it
reads are the pattern's).  One that links the two sides of a join stays where it is and leaves a
hint on the join, which then joins on envelope overlap before the exact filter runs.
"""
from __future__ import annotations

from rdflib import Variable
from rdflib.plugins.sparql.parserutils import CompValue

from . import spatial

HINTS = "spatial_hints"


def certain(node) -> set[str]:
    """Variables bound in every solution of an algebra node (a safe under-approximation)."""
    if not isinstance(node, CompValue):
        return set()
    name = node.name
    if name == "BGP":
        return {str(t) for tr in node.triples for t in tr if isinstance(t, Variable)}
    if name in ("Filter", "Extend", "OrderBy", "Distinct", "Reduced", "Slice", "Minus", "ToMultiSet"):
        return certain(node.p) if name != "ToMultiSet" or node.p.name != "values" else _values(node.p)
    if name == "Join":
        return certain(node.p1) | certain(node.p2)
    if name == "LeftJoin":
        return certain(node.p1)
    if name == "Union":
        return certain(node.p1) & certain(node.p2)
    if name == "Graph":
        return certain(node.p) | ({str(node.term)} if isinstance(node.term, Variable) else set())
    if name == "Project":
        return certain(node.p) & {str(v) for v in node.PV}
    if name == "values":
        return _values(node)
    return set()


def _values(node) -> set[str]:
    rows = node.res
    if not rows:
        return set()
    names = {str(v) for v in rows[0]}
    return {v for v in names if all(r.get(Variable(v)) not in (None, "UNDEF") for r in rows)}


def place(node, conjuncts: list) -> tuple[object, list]:
    """(the pattern with spatial conjuncts pushed in or hinted, the conjuncts left on top)."""
    left = []
    for c in conjuncts:
        cand = spatial.classify(c)
        found = _push(node, c, cand) if cand else None
        if found is None:
            left.append(c)
            continue
        node, moved = found
        if not moved:
            left.append(c)
    return node, left


def hints(node) -> list:
    """The spatial candidates left on a Join node by :func:`place`."""
    return list(node[HINTS]) if HINTS in node else []


def link_hints(p1, p2, conjuncts: list) -> list:
    """Spatial candidates among ``conjuncts`` that link a variable of ``p1`` to one of ``p2``."""
    return [cand for c in conjuncts if (cand := spatial.classify(c)) and _links(cand, p1, p2)]


def _links(cand, p1, p2) -> bool:
    if cand.var_b is None:
        return False
    a, b = certain(p1), certain(p2)
    return (cand.var_a in a and cand.var_b in b) or (cand.var_a in b and cand.var_b in a)


def _copy(node, **changes) -> CompValue:
    out = CompValue(node.name)
    out.update(node)
    out.update(changes)
    for attr in ("_vars",):
        if hasattr(node, attr):
            setattr(out, attr, getattr(node, attr))
    return out


def _push(node, c, cand):
    """(new node, moved into a BGP filter?) or None when the conjunct cannot go down."""
    if not isinstance(node, CompValue):
        return None
    name, need = node.name, cand.vars
    if name == "BGP":
        return (CompValue("Filter", expr=c, p=node), True) if need <= certain(node) else None
    if name == "Filter" and isinstance(node.p, CompValue) and node.p.name == "BGP" and need <= certain(node.p):
        both = CompValue("ConditionalAndExpression", expr=node.expr, other=[c])
        return _copy(node, expr=both), True
    if name in ("Filter", "Graph") or (name == "Extend" and str(node.var) not in need):
        inner = _push(node.p, c, cand) if need <= certain(node.p) else None
        return None if inner is None else (_copy(node, p=inner[0]), inner[1])
    if name == "LeftJoin" and need <= certain(node.p1):
        inner = _push(node.p1, c, cand)
        return None if inner is None else (_copy(node, p1=inner[0]), inner[1])
    if name == "Join":
        for side in ("p1", "p2"):
            if need <= certain(node[side]):
                inner = _push(node[side], c, cand)
                if inner is not None:
                    return _copy(node, **{side: inner[0]}), inner[1]
        if _links(cand, node.p1, node.p2):
            return _copy(node, **{HINTS: [*hints(node), cand]}), False
    return None

"""DE-9IM verification: one ``shapely.relate`` matrix per candidate pair, then every relation
by vectorised pattern matching on the 9-character strings (a ``(n, 9)`` byte matrix).

Patterns follow OGC Simple Features 1.2.1 (as GEOS implements the named predicates) and
the Egenhofer relations of GeoSPARQL 1.0 (Table 7). ``sfEquals`` uses the SFA pattern
``T*F**FFF*``: GeoSPARQL's table gives ``TFFFTFFFT``, which no pair of points can match
(points have no boundary). ``ehCovers``/``ehCoveredBy`` are Egenhofer's: they require the
boundaries to meet (``T*TFT*FF*`` / ``TFF*TFT**``); containment without boundary contact is
``sfContains``/``sfWithin`` only.
"""
from __future__ import annotations

import numpy as np
import shapely

from eolinked.errors import EolinkedError
from eolinked.vocab import GEO

# name -> pattern(s) any of which must match; dimension rules are applied in ``holds``
_PATTERNS = {
    "sfEquals": ("T*F**FFF*",),
    "sfIntersects": ("T********", "*T*******", "***T*****", "****T****"),
    "sfTouches": ("FT*******", "F**T*****", "F***T****"),
    "sfWithin": ("T*F**F***",),
    "sfContains": ("T*****FF*",),
    "sfOverlaps": ("T*T***T**",),  # same dimension 0 or 2; lines: 1*T***T**
    "sfCrosses": ("T*T******",),   # dim a < dim b; a > b: T*****T**; lines: 0********
    "ehCovers": ("T*TFT*FF*",),
    "ehCoveredBy": ("TFF*TFT**",),
}
RELATIONS: dict[str, str] = {name: GEO + name for name in _PATTERNS}
_ALIASES = {name.lower(): name for name in RELATIONS} | {name[2:].lower(): name for name in RELATIONS}
_F, _T = ord("F"), ord("T")


def parse_relations(spec) -> tuple[str, ...]:
    """Relation names from ``"all"``, ``"sfIntersects,touches"``, ``geo:sfWithin`` or a list of them."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in (s.strip() for s in items):
        key = item.removeprefix("geo:").removeprefix(GEO).lower()
        if key == "all":
            out.extend(RELATIONS)
        elif key in _ALIASES:
            out.append(_ALIASES[key])
        elif key:
            raise EolinkedError(f"unknown relation {item!r}",
                                hint="choose from " + ", ".join(RELATIONS) + " (or 'all'); disjoint is never "
                                     "enumerated")
    if not out:
        raise EolinkedError("no relation given", hint="e.g. --relations sfIntersects,sfWithin or --relations all")
    return tuple(dict.fromkeys(out))


def relate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DE-9IM matrices of the pairs ``(a[k], b[k])`` as a ``(n, 9)`` uint8 array of characters."""
    if len(a) == 0:
        return np.empty((0, 9), np.uint8)
    return np.asarray(shapely.relate(a, b), dtype="S9").view(np.uint8).reshape(-1, 9)


def matrix_strings(codes: np.ndarray) -> np.ndarray:
    """The ``(n, 9)`` character matrix back as 9-character strings (numpy ``U9``)."""
    return np.ascontiguousarray(codes).view("S9").ravel().astype("U9")


def _match(codes: np.ndarray, pattern: str) -> np.ndarray:
    ok = np.ones(len(codes), bool)
    for cell, want in enumerate(pattern):
        if want == "*":
            continue
        col = codes[:, cell]
        ok &= (col != _F) if want == "T" else (col == ord(want))
    return ok


def _any(codes: np.ndarray, patterns) -> np.ndarray:
    ok = np.zeros(len(codes), bool)
    for p in patterns:
        ok |= _match(codes, p)
    return ok


def holds(codes: np.ndarray, dim_a: np.ndarray, dim_b: np.ndarray, names) -> np.ndarray:
    """Boolean ``(n, len(names))``: which relations hold, from the matrices and geometry dimensions."""
    out = np.zeros((len(codes), len(names)), bool)
    for k, name in enumerate(names):
        if name == "sfOverlaps":
            same = dim_a == dim_b
            ok = same & np.where(dim_a == 1, _match(codes, "1*T***T**"), _match(codes, "T*T***T**"))
        elif name == "sfCrosses":
            ok = (((dim_a < dim_b) & _match(codes, "T*T******"))
                  | ((dim_a > dim_b) & _match(codes, "T*****T**"))
                  | ((dim_a == 1) & (dim_b == 1) & _match(codes, "0********")))
        elif name == "sfTouches":
            ok = ~((dim_a == 0) & (dim_b == 0)) & _any(codes, _PATTERNS[name])
        else:
            ok = _any(codes, _PATTERNS[name])
        out[:, k] = ok
    return out

"""Topological relations: Simple Features, Egenhofer and RCC8 families and geof:relate.

Every pair gets ONE DE-9IM matrix (``shapely.relate``); the relations are vectorised pattern
matches on it.  The Simple Features family follows the OGC SFA / GEOS definitions, which add
dimension conditions to the GeoSPARQL 1.0 patterns (crosses/overlaps differ for lines, equals
for points; both empty -> equal, as GEOS).  The Egenhofer and RCC8 families (defined for regions)
use the GeoSPARQL 1.0 tables literally.  Pairs in different CRSs are compared in CRS84.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from eolinked.terms import Terms
from eolinked.vocab import GEOF

from ._core import booleans, common, geometries, safe, strings

_ANY, _TRUE, _FALSE = 9, 8, -1  # pattern codes; matrix codes are -1 (F), 0, 1, 2

EH = {
    "ehEquals": ["TFFFTFFFT"], "ehDisjoint": ["FF*FF****"],
    "ehMeet": ["FT*******", "F**T*****", "F***T****"], "ehOverlap": ["T*T***T**"],
    "ehCovers": ["T*TFT*FF*"], "ehCoveredBy": ["TFF*TFT**"], "ehInside": ["TFF*FFT**"],
    "ehContains": ["T*TFF*FF*"],
}
RCC8 = {
    "rcc8eq": ["TFFFTFFFT"], "rcc8dc": ["FFTFFTTTT"], "rcc8ec": ["FFTFTTTTT"], "rcc8po": ["TTTTTTTTT"],
    "rcc8tppi": ["TTTFTTFFT"], "rcc8tpp": ["TFFTTFTTT"], "rcc8ntpp": ["TFFTFFTTT"], "rcc8ntppi": ["TTTFFTFFT"],
}


def _codes(patterns: np.ndarray) -> np.ndarray:
    """(n, 9) int8 codes of DE-9IM strings / patterns: F -1, digits, T 8, * 9."""
    chars = np.asarray(patterns, dtype="U9").view("U1").reshape(-1, 9)
    out = np.full(chars.shape, -2, np.int8)  # -2: invalid character
    for ch, code in (("F", -1), ("0", 0), ("1", 1), ("2", 2), ("T", _TRUE), ("*", _ANY)):
        out[chars == ch] = code
    return out


def _match(m: np.ndarray, pattern) -> np.ndarray:
    """Rows of matrix codes ``m`` that satisfy ``pattern`` (one string, or (n, 9) codes)."""
    p = _codes(np.array([pattern]))[0] if isinstance(pattern, str) else pattern
    return ((p == _ANY) | ((p == _TRUE) & (m >= 0)) | (p == m)).all(axis=1)


def _any(m: np.ndarray, patterns) -> np.ndarray:
    out = np.zeros(len(m), bool)
    for p in patterns:
        out |= _match(m, p)
    return out


class Matrix:
    """DE-9IM codes and dimensions of each pair; ``ok`` false where an argument is an error."""

    def __init__(self, a: Terms, b: Terms):
        ga, gb = common(geometries(a), geometries(b))
        self.ok = ga.ok & gb.ok
        n = len(self.ok)
        text = np.full(n, "FFFFFFFFF", "U9")
        text[self.ok] = safe(shapely.relate, ga.geom[self.ok], gb.geom[self.ok]).astype("U9")
        self.ok &= np.char.str_len(text) == 9
        self.m = _codes(text)
        self.empty_a, self.empty_b = shapely.is_empty(ga.geom), shapely.is_empty(gb.geom)
        self.dim_a, self.dim_b = shapely.get_dimensions(ga.geom), shapely.get_dimensions(gb.geom)


def _sf(name: str, x: Matrix) -> np.ndarray:
    m, da, db = x.m, x.dim_a, x.dim_b
    if name == "sfEquals":
        return (x.empty_a & x.empty_b) | ((da == db) & _match(m, "T*F**FFF*"))
    if name == "sfDisjoint":
        return _match(m, "FF*FF****")
    if name == "sfIntersects":
        return ~_match(m, "FF*FF****")
    if name == "sfTouches":
        return _any(m, EH["ehMeet"]) & ~((da == 0) & (db == 0))
    if name == "sfWithin":
        return _match(m, "T*F**F***")
    if name == "sfContains":
        return _match(m, "T*****FF*")
    if name == "sfOverlaps":
        return (da == db) & (((da != 1) & _match(m, "T*T***T**")) | ((da == 1) & _match(m, "1*T***T**")))
    if name == "sfCrosses":
        return (((da < db) & _match(m, "T*T******")) | ((da > db) & _match(m, "T*****T**"))
                | ((da == 1) & (db == 1) & _match(m, "0********")))
    raise KeyError(name)


SF_NAMES = ("sfEquals", "sfDisjoint", "sfIntersects", "sfTouches", "sfCrosses", "sfWithin", "sfContains",
            "sfOverlaps")


def _relation(name: str):
    def fn(a: Terms, b: Terms) -> Terms:
        x = Matrix(a, b)
        value = _sf(name, x) if name in SF_NAMES else _any(x.m, {**EH, **RCC8}[name])
        return booleans(value, x.ok)
    fn.__name__ = name
    fn.__doc__ = f"geof:{name}(geom1, geom2) -> xsd:boolean"
    return fn


def relate(a: Terms, b: Terms, pattern: Terms) -> Terms:
    """geof:relate(geom1, geom2, pattern): the DE-9IM matrix matches the 9-character pattern."""
    x = Matrix(a, b)
    text = pa.array(strings(pattern), pa.string())
    good = pc.fill_null(pc.equal(pc.utf8_length(text), 9), False)
    text = pc.utf8_upper(pc.if_else(good, text, "*********"))
    codes = _codes(text.to_numpy(zero_copy_only=False).astype("U9"))
    ok = x.ok & good.to_numpy(zero_copy_only=False) & (codes != -2).all(axis=1)
    return booleans(_match(x.m, codes), ok)


FUNCTIONS = {GEOF + name: _relation(name) for name in (*SF_NAMES, *EH, *RCC8)}
FUNCTIONS[GEOF + "relate"] = relate

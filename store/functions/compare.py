"""Comparison operators (``= != < > <= >=``), sameTerm, ``!``, effective boolean value and the
ORDER BY sort key.

Literals fall into value categories: numeric, string (simple / xsd:string), language-tagged,
boolean, dateTime, date and other (unknown datatype or ill-formed lexical form).  ``=`` compares
by value within a category; across categories it is false, except that an "other" literal
against a literal that is not language-tagged is an error (RDFterm-equal).  The ordering
operators need two numerics, strings, booleans, dateTimes or dates.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import BLANK, IRI, LITERAL, Terms

from . import datetime as dates
from .base import (
    XSD_BOOLEAN,
    all_of,
    boolean_value,
    booleans,
    is_kind,
    is_lang,
    is_simple,
    numeric,
    numeric_rank,
    to_np,
    where,
)

NUMERIC, STRING, LANG, BOOLEAN, DATETIME, DATE, OTHER = range(1, 8)
_UNORDERED = 2  # a NaN compared with a number: = is false, != true, < > <= >= false
_NULL8 = pa.scalar(None, pa.int8())


class _Values:
    """The comparable values of a column of terms."""

    def __init__(self, t: Terms):
        self.t, self.num, self.bool, self.dates = t, numeric(t), boolean_value(t), dates.parse(t)
        cat = pa.array(np.full(len(t), OTHER, np.int8))
        timed = pc.and_(self.dates.valid, pc.invert(self.dates.is_date))
        for mask, c in ((is_simple(t), STRING), (is_lang(t), LANG), (pc.is_valid(self.bool), BOOLEAN),
                        (self.num.valid(), NUMERIC), (timed, DATETIME), (self.dates.is_date, DATE)):
            cat = where(mask, pa.scalar(c, pa.int8()), cat)
        self.cat = pc.if_else(is_kind(t, LITERAL), cat, _NULL8)


def _sign(less, greater) -> pa.Array:
    return pc.if_else(less, pa.scalar(-1, pa.int8()), pc.if_else(greater, pa.scalar(1, pa.int8()),
                                                                  pa.scalar(0, pa.int8())))


def _cmp_same(x: _Values, y: _Values) -> pa.Array:
    """-1 / 0 / 1 (or unordered) for literals of the same category; null where undefined."""
    both_int = pc.and_(pc.is_valid(x.num.ival), pc.is_valid(y.num.ival))
    num = pc.if_else(both_int, _sign(pc.less(x.num.ival, y.num.ival), pc.greater(x.num.ival, y.num.ival)),
                     _sign(pc.less(x.num.num, y.num.num), pc.greater(x.num.num, y.num.num)))
    nan = pc.or_(pc.is_nan(x.num.num), pc.is_nan(y.num.num))
    num = where(nan, pa.scalar(_UNORDERED, pa.int8()), num)
    text = _sign(pc.less(x.t.value, y.t.value), pc.greater(x.t.value, y.t.value))
    same = pc.and_(pc.equal(x.t.value, y.t.value), pc.equal(pc.utf8_lower(x.t.lang), pc.utf8_lower(y.t.lang)))
    same_lang = pc.if_else(same, pa.scalar(0, pa.int8()), pa.scalar(_UNORDERED, pa.int8()))
    boolean = _sign(pc.less(x.bool, y.bool), pc.greater(x.bool, y.bool))
    other = pc.if_else(same_term_mask(x.t, y.t), pa.scalar(0, pa.int8()), _NULL8)
    when = dates.compare(x.dates, y.dates)
    out = _NULL8
    for c, value in ((NUMERIC, num), (STRING, text), (LANG, same_lang), (BOOLEAN, boolean),
                     (DATETIME, when), (DATE, when), (OTHER, other)):
        out = where(pc.equal(x.cat, c), value, out)
    return pc.if_else(pc.equal(x.cat, y.cat), out, _NULL8)


def same_term_mask(a: Terms, b: Terms) -> pa.Array:
    """sameTerm as a boolean array (null where either side is unbound / an error)."""
    def eq(u, v):
        return pc.fill_null(pc.equal(u, v), pc.and_(pc.is_null(u), pc.is_null(v)))
    same = pc.and_(pc.equal(a.kind, b.kind), pc.equal(a.value, b.value))
    same = pc.and_(pc.fill_null(same, False), pc.and_(eq(a.datatype, b.datatype), eq(a.lang, b.lang)))
    return pc.if_else(pc.and_(pc.is_valid(a.kind), pc.is_valid(b.kind)), same, pa.scalar(None, pa.bool_()))


def equal_mask(a: Terms, b: Terms) -> pa.Array:
    both = all_of(is_kind(a, LITERAL), is_kind(b, LITERAL))
    if not pc.any(both).as_py():  # no literal pairs: sameTerm
        return same_term_mask(a, b)
    x, y = _Values(a), _Values(b)
    same_cat = pc.equal(_cmp_same(x, y), 0)
    lang = pc.or_(pc.equal(x.cat, LANG), pc.equal(y.cat, LANG))
    other = pc.or_(pc.equal(x.cat, OTHER), pc.equal(y.cat, OTHER))
    cross = pc.if_else(pc.and_(other, pc.invert(lang)), pa.scalar(None, pa.bool_()), False)
    literals = pc.if_else(pc.equal(x.cat, y.cat), same_cat, cross)
    return pc.if_else(both, literals, same_term_mask(a, b))


def order_cmp(a: Terms, b: Terms) -> pa.Array:
    x, y = _Values(a), _Values(b)
    orderable = pc.is_in(x.cat, pa.array([NUMERIC, STRING, BOOLEAN, DATETIME, DATE], pa.int8()))
    return pc.if_else(pc.fill_null(orderable, False), _cmp_same(x, y), _NULL8)


def _keep_null(cmp: pa.Array, accept: tuple) -> pa.Array:
    hit = pc.is_in(cmp, pa.array(accept, pa.int8()))
    return pc.if_else(pc.is_valid(cmp), hit, pa.scalar(None, pa.bool_()))


def ebv(t: Terms) -> pa.Array:
    """Effective boolean value (null = error): booleans by value (ill-formed: false), numerics
    non-zero and not NaN (ill-formed: false), strings non-empty."""
    num = numeric(t)
    numeric_typed = pc.is_valid(numeric_rank(t))
    num_val = pc.fill_null(pc.and_(pc.not_equal(num.num, 0.0), pc.invert(pc.is_nan(num.num))), False)
    bool_typed = all_of(is_kind(t, LITERAL), pc.equal(t.datatype, XSD_BOOLEAN))
    out = pa.nulls(len(t), pa.bool_())
    out = where(is_simple(t), pc.greater(pc.utf8_length(t.value), 0), out)
    out = where(numeric_typed, num_val, out)
    return where(bool_typed, pc.fill_null(boolean_value(t), False), out)


def not_(t: Terms) -> Terms:
    return booleans(pc.invert(ebv(t)))


def same_term(a: Terms, b: Terms) -> Terms:
    return booleans(same_term_mask(a, b))


# -- ORDER BY ---------------------------------------------------------------------------------
def _bytes8(u: np.ndarray) -> pa.Array:
    buf = pa.py_buffer(np.ascontiguousarray(u.astype(">u8")).tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(8), len(u), [None, buf]).cast(pa.binary())


def _float_key(v: np.ndarray) -> pa.Array:
    bits = v.astype(np.float64).view(np.uint64)
    return _bytes8(np.where(bits >> np.uint64(63), ~bits, bits | np.uint64(1 << 63)))


def _int_key(v: np.ndarray) -> pa.Array:
    return _bytes8(v.astype(np.int64).view(np.uint64) ^ np.uint64(1 << 63))


def _text(s: pa.Array, terminated: bool = True) -> pa.Array:
    s = pc.replace_substring(s, "\x00", "\x00\x01")
    return pc.cast(pc.binary_join_element_wise(s, "\x00\x00", "") if terminated else s, pa.binary())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))


def sort_key(t: Terms) -> pa.Array:
    """Byte strings whose order is SPARQL's ORDER BY order: blank nodes < IRIs < literals;
    literals: numerics by value < strings < language-tagged < booleans < dateTimes < dates <
    others (by lexical form, then datatype).  Null (unbound) stays null."""
    n = len(t)
    v = _Values(t)

    def tag(b: int) -> pa.Array:
        return pa.array([bytes([b])] * n, pa.binary()) if n else pa.array([], pa.binary())
    lex = _text(t.value)
    num = _join(tag(2), tag(NUMERIC), _float_key(to_np(v.num.num, 0.0)), lex)
    micros = _int_key(v.dates.micros)
    by_cat = {
        STRING: _join(tag(2), tag(STRING), _text(t.value, False)),
        LANG: _join(tag(2), tag(LANG), lex, _text(t.lang, False)),
        BOOLEAN: _join(tag(2), tag(BOOLEAN), _text(pc.cast(v.bool, pa.string()), False)),
        DATETIME: _join(tag(2), tag(DATETIME), micros, lex),
        DATE: _join(tag(2), tag(DATE), micros, lex),
        NUMERIC: num,
    }
    out = _join(tag(2), tag(OTHER), lex, _text(t.datatype, False))
    for c, key in by_cat.items():
        out = where(pc.equal(v.cat, c), key, out)
    out = where(is_kind(t, IRI), _join(tag(1), _text(t.value, False)), out)
    out = where(is_kind(t, BLANK), _join(tag(0), _text(t.value, False)), out)
    return pc.if_else(pc.is_valid(t.kind), out, pa.scalar(None, pa.binary()))


def _relation(accept: tuple):
    def fn(a: Terms, b: Terms) -> Terms:
        return booleans(_keep_null(order_cmp(a, b), accept))
    return fn


def _eq(a: Terms, b: Terms) -> Terms:
    return booleans(equal_mask(a, b))


def _ne(a: Terms, b: Terms) -> Terms:
    return booleans(pc.invert(equal_mask(a, b)))


COMPARE_SCALARS = {
    "=": _eq, "!=": _ne, "<": _relation((-1,)), ">": _relation((1,)),
    "<=": _relation((-1, 0)), ">=": _relation((1, 0)),
    "SAMETERM": same_term, "!": not_,
}

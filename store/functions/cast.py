"""XSD constructor casts (SPARQL 17.5, XPath casting): xsd:string boolean integer decimal float
double dateTime, keyed by their full IRIs."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import IRI, LITERAL, Terms

from . import datetime as dates
from .base import (
    DECIMAL_RE,
    DOUBLE_RE,
    INT_RE,
    NULL_STR,
    XSD,
    XSD_BOOLEAN,
    XSD_DATETIME,
    XSD_STRING,
    all_of,
    boolean_value,
    fmt_decimal,
    fmt_double,
    is_kind,
    is_lang,
    is_simple,
    literal,
    num_terms,
    numeric,
    numeric_rank,
    parse_int,
    to_np,
    where,
)

_I8 = pa.int8()


def _number_text(rank: pa.Array, num: pa.Array, ival: pa.Array) -> pa.Array:
    """XPath string form of a number: integers and decimals without exponent (``1``, ``2.5``),
    floats / doubles likewise when 1e-6 <= |x| < 1e6, else in canonical E notation."""
    dec = pc.replace_substring_regex(fmt_decimal(num), r"\.0$", "")
    short = pc.cast(pc.cast(num, pa.float32()), pa.string())  # shortest float32 text
    plain = where(pc.equal(rank, 2), short, pc.cast(num, pa.string()))
    plain = where(pc.match_substring(plain, "e"), dec, plain)
    mag = pc.abs(num)
    mid = pc.or_(pc.equal(num, 0.0), pc.and_(pc.greater_equal(mag, 1e-6), pc.less(mag, 1e6)))
    floating = where(mid, plain, fmt_double(num, single=False))
    floating = where(pc.equal(rank, 2), where(mid, plain, fmt_double(num, single=True)), floating)
    out = where(pc.greater_equal(rank, 2), floating, dec)
    return where(pc.equal(rank, 0), pc.cast(ival, pa.string()), out)


def to_string(t: Terms) -> Terms:
    num, boolean = numeric(t), boolean_value(t)
    text = where(pc.or_(is_kind(t, IRI), is_kind(t, LITERAL)), t.value, NULL_STR)
    text = where(num.valid(), _number_text(num.rank, num.num, num.ival), text)
    text = where(pc.is_valid(boolean), pc.if_else(boolean, "true", "false"), text)
    bad = pc.or_(is_lang(t), pc.and_(pc.is_valid(numeric_rank(t)), pc.invert(num.valid())))
    bad = pc.or_(bad, all_of(pc.equal(t.datatype, XSD_BOOLEAN), pc.is_null(boolean)))
    return literal(pc.if_else(pc.fill_null(bad, False), NULL_STR, text), XSD_STRING)


def _source(t: Terms):
    """(numeric value, boolean value, trimmed simple-literal text) of a cast argument."""
    text = pc.if_else(is_simple(t), pc.utf8_trim_whitespace(t.value), NULL_STR)
    return numeric(t), boolean_value(t), text


def _from_string(text: pa.Array, pattern: str) -> pa.Array:
    ok = pc.match_substring_regex(text, pattern)
    return pc.cast(pc.replace_substring_regex(pc.if_else(ok, text, NULL_STR), r"^\+", ""), pa.float64())


def to_boolean(t: Terms) -> Terms:
    num, boolean, text = _source(t)
    value = pc.if_else(pc.is_in(text, pa.array(["true", "1"])), True,
                       pc.if_else(pc.is_in(text, pa.array(["false", "0"])), False,
                                  pa.scalar(None, pa.bool_())))
    nonzero = pc.and_(pc.not_equal(num.num, 0.0), pc.invert(pc.is_nan(num.num)))
    value = where(num.valid(), nonzero, value)
    value = where(pc.is_valid(boolean), boolean, value)
    return literal(pc.if_else(value, "true", "false"), XSD_BOOLEAN)


def to_integer(t: Terms) -> Terms:
    num, boolean, text = _source(t)
    ival = parse_int(pc.if_else(pc.match_substring_regex(text, INT_RE), text, NULL_STR))
    v = to_np(num.num, np.nan)
    finite = np.isfinite(v) & (np.abs(v) < 9.2e18)
    trunc = pa.array(np.where(finite, np.trunc(np.where(finite, v, 0)), 0).astype(np.int64),
                     mask=~finite)
    ival = where(num.valid(), pc.if_else(pc.equal(num.rank, 0), num.ival, trunc), ival)
    ival = where(pc.is_valid(boolean), pc.cast(boolean, pa.int64()), ival)
    return num_terms(pc.if_else(pc.is_valid(ival), pa.scalar(0, _I8), pa.scalar(None, _I8)), num.num, ival)


def _to_real(rank: int, pattern: str):
    def fn(t: Terms) -> Terms:
        num, boolean, text = _source(t)
        value = _from_string(text, pattern)
        value = where(num.valid(), num.num, value)
        value = where(pc.is_valid(boolean), pc.cast(pc.cast(boolean, pa.int8()), pa.float64()), value)
        if rank == 1:  # no NaN or infinite decimals
            value = pc.if_else(pc.is_finite(value), value, pa.scalar(None, pa.float64()))
        return num_terms(pc.if_else(pc.is_valid(value), pa.scalar(rank, _I8), pa.scalar(None, _I8)), value)
    return fn


def to_datetime(t: Terms) -> Terms:
    text = pc.utf8_trim_whitespace(t.value)
    as_dt = dates.parse(literal(text, XSD_DATETIME))
    ok = pc.and_(pc.or_(is_simple(t), all_of(pc.equal(t.datatype, XSD_DATETIME))), as_dt.valid)
    d = dates.parse(t)
    midnight = pc.binary_join_element_wise(d.fields["y"], "-", d.fields["mo"], "-", d.fields["d"],
                                           "T00:00:00", d.fields["tz"], "")
    value = where(ok, text, NULL_STR)
    return literal(where(d.is_date, midnight, value), XSD_DATETIME)


CAST_SCALARS = {
    XSD + "string": to_string, XSD + "boolean": to_boolean, XSD + "integer": to_integer,
    XSD + "decimal": _to_real(1, DECIMAL_RE), XSD + "float": _to_real(2, DOUBLE_RE),
    XSD + "double": _to_real(3, DOUBLE_RE), XSD + "dateTime": to_datetime,
}

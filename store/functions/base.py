"""Shared pieces of the SPARQL function library: datatype tables, argument tests, numeric
values of literals and the canonical lexical forms of computed numbers.

Numbers are carried as a :class:`Num`: ``rank`` (0 xsd:integer and its derived types,
1 decimal, 2 float, 3 double; null when the term is not a well-formed numeric literal),
``num`` (float64 value), ``ival`` (int64 value of integers that fit, else null) and ``whole``
(the lexical form is a plain integer numeral, ``3`` but not ``3.0`` or ``3E0``).
Decimals are computed in float64 (about 15 significant digits).

Lexical forms of computed numbers: canonical (``2.0``, ``2.0E0``), except that an integral
decimal / float / double computed from operands all written as integer numerals is written as
one too (``"3"^^xsd:double * 3`` -> ``"9"^^xsd:double``; like a BigDecimal of scale 0).  This is
what the W3C tests expect (sparql10 expr-ops *-numbers-cast, unplus-2, unminus-2).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import LITERAL, Terms
from eolinked.vocab import RDF_LANG_STRING, XSD, XSD_STRING  # noqa: F401 (re-exported)

XSD_BOOLEAN, XSD_INTEGER, XSD_DECIMAL = XSD + "boolean", XSD + "integer", XSD + "decimal"
XSD_FLOAT, XSD_DOUBLE = XSD + "float", XSD + "double"
XSD_DATETIME, XSD_DATE = XSD + "dateTime", XSD + "date"
XSD_DAYTIMEDURATION = XSD + "dayTimeDuration"
INTEGER_TYPES = [XSD + t for t in (
    "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
    "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    "positiveInteger")]
RANK_DATATYPES = [XSD_INTEGER, XSD_DECIMAL, XSD_FLOAT, XSD_DOUBLE]
_NUMERIC_TYPES = pa.array(INTEGER_TYPES + RANK_DATATYPES[1:])
_NUMERIC_RANKS = pa.array([0] * len(INTEGER_TYPES) + [1, 2, 3], pa.int8())

INT_RE = r"^[+-]?[0-9]+$"
DECIMAL_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
DOUBLE_RE = r"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$"

NULL_STR = pa.scalar(None, pa.string())
NULL_I8 = pa.scalar(None, pa.int8())


# -- array helpers ----------------------------------------------------------------------------
def full(value, n: int, type_: pa.DataType = pa.string()) -> pa.Array:  # noqa: B008
    return pa.array(np.full(n, value, dtype=object), type_) if n else pa.array([], type_)


def where(cond, a, b):
    """``if_else`` with a null condition taken as false."""
    return pc.if_else(pc.fill_null(cond, False), a, b)


def all_of(*conds) -> pa.Array:
    out = conds[0]
    for c in conds[1:]:
        out = pc.and_kleene(out, c)
    return pc.fill_null(out, False)


def to_np(arr, fill) -> np.ndarray:
    return pc.fill_null(arr, fill).to_numpy(zero_copy_only=False)


def is_constant(arr: pa.Array) -> bool:
    """True when every row holds the same non-null value (a broadcast constant)."""
    return len(arr) > 0 and arr.null_count == 0 and pc.count_distinct(arr).as_py() == 1


# -- building results -------------------------------------------------------------------------
def literal(value, datatype=XSD_STRING, lang=None, ok=None) -> Terms:
    """Literals from lexical forms (array), masked to error where ``ok`` is false."""
    out = Terms.literals(value, datatype=datatype, lang=lang)
    return out if ok is None else out.mask(ok)


def like(t: Terms, value, ok=None) -> Terms:
    """Literals with new lexical forms and the datatype / language of ``t``."""
    out = Terms(pc.if_else(pc.is_null(value), NULL_I8, t.kind), value, t.datatype, t.lang)
    return out if ok is None else out.mask(ok)


def booleans(values: pa.Array) -> Terms:
    lex = pc.if_else(values, "true", "false")
    return literal(lex, XSD_BOOLEAN)


# -- argument tests ---------------------------------------------------------------------------
def is_kind(t: Terms, kind: int) -> pa.Array:
    return pc.fill_null(pc.equal(t.kind, kind), False)


def is_simple(t: Terms) -> pa.Array:
    """Simple literal or xsd:string."""
    return all_of(pc.equal(t.kind, LITERAL), pc.equal(t.datatype, XSD_STRING))


def is_lang(t: Terms) -> pa.Array:
    return all_of(pc.equal(t.kind, LITERAL), pc.is_valid(t.lang))


def is_string(t: Terms) -> pa.Array:
    """A string literal: simple, xsd:string or language-tagged."""
    return pc.or_(is_simple(t), is_lang(t))


def compatible(a: Terms, b: Terms) -> pa.Array:
    """Argument compatibility of two string literals (SPARQL 17.4.3.1.1)."""
    same_lang = all_of(is_lang(a), is_lang(b), pc.equal(a.lang, b.lang))
    return all_of(is_string(a), pc.or_(is_simple(b), same_lang))


def has_dt(t: Terms, datatype: str) -> pa.Array:
    return all_of(pc.equal(t.kind, LITERAL), pc.equal(t.datatype, datatype))


def valid_lex(t: Terms, datatype: str, pattern: str) -> pa.Array:
    return all_of(has_dt(t, datatype), pc.match_substring_regex(t.value, pattern))


def boolean_value(t: Terms) -> pa.Array:
    """Value of well-formed xsd:boolean literals, null elsewhere."""
    ok = valid_lex(t, XSD_BOOLEAN, "^(true|false|1|0)$")
    return pc.if_else(ok, pc.is_in(t.value, pa.array(["true", "1"])), pa.scalar(None, pa.bool_()))


# -- numbers ----------------------------------------------------------------------------------
@dataclass
class Num:
    rank: pa.Array   # int8
    num: pa.Array    # float64
    ival: pa.Array   # int64
    whole: pa.Array  # bool: lexical form is an integer numeral

    def valid(self) -> pa.Array:
        return pc.is_valid(self.rank)


def numeric_rank(t: Terms) -> pa.Array:
    """Rank of numeric datatypes (lexical form not checked), null elsewhere."""
    idx = pc.index_in(pc.if_else(pc.equal(t.kind, LITERAL), t.datatype, NULL_STR), value_set=_NUMERIC_TYPES)
    return pc.take(_NUMERIC_RANKS, idx)


def numeric(t: Terms) -> Num:
    """Numeric values of well-formed numeric literals."""
    rank = numeric_rank(t)
    lex = pc.if_else(pc.is_valid(rank), t.value, NULL_STR)
    ok = pc.is_valid(rank)
    for ranks, pattern in (((0,), INT_RE), ((1,), DECIMAL_RE), ((2, 3), DOUBLE_RE)):
        sel = pc.is_in(rank, pa.array(ranks, pa.int8()))
        if pc.any(sel).as_py():  # check each lexical form against its own datatype's syntax
            ok = pc.and_(ok, pc.or_(pc.invert(sel), pc.match_substring_regex(lex, pattern)))
    rank = pc.if_else(ok, rank, NULL_I8)
    lex = pc.replace_substring_regex(pc.if_else(ok, lex, NULL_STR), r"^\+", "")
    whole = pc.fill_null(pc.match_substring_regex(lex, INT_RE), False)
    return Num(rank, pc.cast(lex, pa.float64()), parse_int(pc.if_else(pc.equal(rank, 0), lex, NULL_STR)), whole)


def parse_int(lex: pa.Array) -> pa.Array:
    """int64 from well-formed integer lexical forms; null when too long for int64."""
    lex = pc.replace_substring_regex(lex, r"^\+", "")
    short = pc.less_equal(pc.utf8_length(pc.replace_substring_regex(lex, "^-?0*", "")), 18)
    return pc.cast(pc.if_else(short, lex, NULL_STR), pa.int64())


def num_terms(rank, num, ival=None, whole=None) -> Terms:
    """Numeric literals of the given ranks, in canonical lexical form (integer numerals where
    ``whole`` is true and the value is integral: see the module docstring); a NaN or infinite
    decimal or integer, or an integer without an int64 value, is an error."""
    rank = pc.cast(rank, pa.int8())
    num = pc.cast(num, pa.float64())
    n = len(rank)
    lex = pa.nulls(n, pa.string())
    if ival is not None and pc.any(pc.equal(rank, 0)).as_py():
        lex = where(pc.equal(rank, 0), pc.cast(ival, pa.string()), lex)
    for r, fmt in ((1, fmt_decimal), (2, lambda x: fmt_double(x, single=True)), (3, fmt_double)):
        sel = pc.equal(rank, r)
        if pc.any(sel).as_py():
            lex = where(sel, fmt(pc.if_else(sel, num, pa.scalar(None, pa.float64()))), lex)
    if whole is not None and pc.any(whole).as_py():
        itext = integer_text(num)
        itext = where(pc.and_(pc.equal(rank, 1), pc.equal(itext, "-0")), "0", itext)  # no decimal -0
        lex = where(all_of(whole, pc.greater_equal(rank, 1), pc.is_valid(itext)), itext, lex)
    return literal(lex, pc.take(pa.array(RANK_DATATYPES), rank))


def integer_text(x: pa.Array) -> pa.Array:
    """``9``, ``-3``, ``-0`` for integral values below 2**53 in magnitude; null otherwise."""
    v = to_np(x, np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2.0 ** 53)
    text = pc.cast(pa.array(np.where(ok, v, 0).astype(np.int64)), pa.string())
    text = where(pa.array(ok & (v == 0) & np.signbit(v)), "-0", text)
    return pc.if_else(pa.array(ok), text, NULL_STR)


def fmt_double(x: pa.Array, single: bool = False) -> pa.Array:
    """XSD canonical double / float lexical forms: ``1.0E0``, ``-1.5E-7``, ``INF``, ``NaN``."""
    xs = np.abs(to_np(x, 0.0))
    text = pc.cast(pa.array(xs, pa.float32() if single else pa.float64()), pa.string())
    parts = pc.extract_regex(text, r"^(?P<i>[0-9]+)(?:\.(?P<f>[0-9]+))?(?:e(?P<e>[+-]?[0-9]+))?$")
    i, f = pc.struct_field(parts, "i"), pc.struct_field(parts, "f")
    e = pc.replace_substring_regex(pc.struct_field(parts, "e"), r"^\+", "")
    exp = pc.cast(pc.if_else(pc.equal(e, ""), "0", e), pa.int64())
    digits = pc.binary_join_element_wise(i, f, "")
    stripped = pc.utf8_ltrim(digits, "0")
    exp = pc.subtract(pc.add(exp, pc.subtract(pc.utf8_length(i), 1)),
                      pc.subtract(pc.utf8_length(digits), pc.utf8_length(stripped)))
    stripped = pc.utf8_rtrim(stripped, "0")
    rest = pc.utf8_slice_codeunits(stripped, 1)
    mantissa = pc.binary_join_element_wise(pc.utf8_slice_codeunits(stripped, 0, 1), ".",
                                           where(pc.equal(rest, ""), "0", rest), "")
    out = pc.binary_join_element_wise(mantissa, "E", pc.cast(exp, pa.string()), "")
    out = where(pc.equal(stripped, ""), "0.0E0", out)
    out = where(pc.is_inf(pa.array(xs)), "INF", out)
    neg = pa.array(np.signbit(to_np(x, 0.0)))
    out = where(neg, pc.binary_join_element_wise("-", out, ""), out)
    out = where(pc.is_nan(x), "NaN", out)
    return pc.if_else(pc.is_null(x), NULL_STR, out)


def fmt_decimal(x: pa.Array) -> pa.Array:
    """Canonical decimal lexical forms (``2.0``, ``-0.5``), rounded to 15 significant digits;
    NaN and infinities give null."""
    v = to_np(x, 0.0) + 0.0  # no negative zero
    finite = np.isfinite(v)
    v = np.where(finite, v, 0.0)
    e = np.floor(np.log10(np.where(v == 0, 1.0, np.abs(v))))
    k = 14 - e
    exact = (k >= 0) & (k <= 22)
    scale = 10.0 ** np.where(exact, k, 0)
    v = np.where(exact, np.rint(v * scale) / scale, v) + 0.0
    text = pc.cast(pa.array(v), pa.string())
    sci = pc.match_substring(text, "e")
    if pc.any(sci).as_py():  # rare huge / tiny values: exponent-free text per distinct value
        idx = np.flatnonzero(to_np(sci, False))
        fixed = np.array(text.to_pylist(), dtype=object)
        fixed[idx] = [format(Decimal(repr(float(v[i]))), "f") for i in idx]
        text = pa.array(fixed, pa.string())
    text = where(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
    ok = pc.and_(pc.is_valid(x), pa.array(finite))
    return pc.if_else(ok, text, NULL_STR)


# -- per-row string operations ----------------------------------------------------------------
def np_strings(a: pa.Array) -> np.ndarray:
    """A numpy StringDType array (nulls as empty strings) for numpy's vectorised string ufuncs."""
    return to_np(a, "").astype(np.dtypes.StringDType())


def _affix(a: pa.Array, b: pa.Array, arrow_fn, numpy_fn) -> pa.Array:
    """Per-row prefix / suffix test; a constant pattern runs in Arrow, a varying one in numpy."""
    out = arrow_fn(a, b[0].as_py()) if is_constant(b) else pa.array(numpy_fn(np_strings(a), np_strings(b)))
    return pc.if_else(pc.and_(pc.is_valid(a), pc.is_valid(b)), out, pa.scalar(None, pa.bool_()))


def startswith(a: pa.Array, b: pa.Array) -> pa.Array:
    return _affix(a, b, pc.starts_with, np.strings.startswith)


def endswith(a: pa.Array, b: pa.Array) -> pa.Array:
    return _affix(a, b, pc.ends_with, np.strings.endswith)


def map_distinct(arr: pa.Array, fn, type_: pa.DataType = pa.string()) -> pa.Array:  # noqa: B008
    """``fn`` applied once per distinct non-null value (for operations with no vectorised
    primitive: hashes, URL quoting, IRI resolution); nulls stay null."""
    uniq = pc.unique(arr).drop_null()
    results = pa.array([fn(v) for v in uniq.to_pylist()], type_)
    return pc.take(results, pc.index_in(arr, value_set=uniq))


def scatter(n: int, parts: list[tuple[np.ndarray, pa.Array]], type_) -> pa.Array:
    """An array of length ``n`` with ``values`` at ``rows`` for each (rows, values); null elsewhere."""
    rows = [r for r, _ in parts]
    covered = np.concatenate(rows) if rows else np.array([], np.int64)
    rest = np.setdiff1d(np.arange(n), covered)
    values = pa.concat_arrays([v.cast(type_) for _, v in parts] + [pa.nulls(len(rest), type_)])
    order = np.empty(n, np.int64)
    order[np.concatenate([covered, rest]).astype(np.int64)] = np.arange(n)
    return values.take(pa.array(order))

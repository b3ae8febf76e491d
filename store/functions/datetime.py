"""xsd:dateTime / xsd:date values and YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import Terms

from .base import (
    NULL_STR,
    XSD_DATE,
    XSD_DATETIME,
    XSD_DAYTIMEDURATION,
    XSD_INTEGER,
    all_of,
    has_dt,
    literal,
    num_terms,
    parse_int,
    to_np,
    where,
)

_RE = (r"^(?P<y>-?[0-9]{4,})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
       r"(?:T(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2}(?:\.[0-9]+)?))?"
       r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?$")
_MICROS_14H = 14 * 3600 * 1_000_000


@dataclass
class Dates:
    """Components of well-formed dateTime (``is_date`` false) or date literals (null elsewhere)."""
    valid: pa.Array
    is_date: pa.Array
    fields: dict        # y mo d h mi s tz -> string arrays (lexical pieces)
    has_tz: pa.Array
    micros: np.ndarray  # int64 microseconds since 1970 in UTC (no timezone: read as UTC)


def parse(t: Terms) -> Dates:
    is_dt, is_date = has_dt(t, XSD_DATETIME), has_dt(t, XSD_DATE)
    lex = pc.if_else(pc.or_(is_dt, is_date), t.value, NULL_STR)
    parts = pc.extract_regex(lex, _RE)
    f = {k: pc.struct_field(parts, k) for k in ("y", "mo", "d", "h", "mi", "s", "tz")}
    timed = pc.not_equal(f["h"], "")
    valid = all_of(pc.is_valid(parts), pc.equal(timed, is_dt))
    f = {k: pc.if_else(valid, v, NULL_STR) for k, v in f.items()}
    num = {k: to_np(pc.cast(pc.if_else(pc.equal(f[k], ""), "0", f[k]), pa.int64()), 0)
           for k in ("mo", "d", "h", "mi")}
    year = to_np(parse_int(f["y"]), 0)
    sec = to_np(pc.cast(pc.if_else(pc.equal(f["s"], ""), "0", f["s"]), pa.float64()), 0.0)
    valid = pc.and_(valid, pa.array((num["mo"] >= 1) & (num["mo"] <= 12) & (num["d"] >= 1)
                                    & (num["d"] <= 31) & (num["h"] <= 24) & (num["mi"] <= 59)
                                    & (sec < 61)))
    tz = pc.if_else(valid, f["tz"], NULL_STR)
    has_tz = pc.not_equal(tz, "")
    tz_min = to_np(pc.add(pc.multiply(_int(pc.utf8_slice_codeunits(tz, 1, 3)), 60),
                          _int(pc.utf8_slice_codeunits(tz, 4, 6))), 0)
    tz_min = np.where(to_np(pc.starts_with(tz, "-"), False), -tz_min, tz_min)
    days = _days_from_civil(year, num["mo"], num["d"])
    minutes = (days * 24 + num["h"]) * 60 + num["mi"] - tz_min
    micros = minutes * 60_000_000 + np.rint(sec * 1e6).astype(np.int64)
    return Dates(valid, pc.and_(valid, is_date), f, has_tz, micros)


def _int(a: pa.Array) -> pa.Array:
    return pc.cast(pc.if_else(pc.equal(a, ""), "0", a), pa.int64())


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def compare(a: Dates, b: Dates) -> pa.Array:
    """-1 / 0 / 1 for two dateTimes (or two dates); null when incomparable or indeterminate
    (one has a timezone, the other not, and they are within 14 hours)."""
    diff = a.micros - b.micros
    sign = pa.array(np.sign(diff).astype(np.int8))
    mixed = pc.not_equal(a.has_tz, b.has_tz)
    unsure = pc.and_(mixed, pa.array(np.abs(diff) <= _MICROS_14H))
    ok = all_of(a.valid, b.valid, pc.equal(a.is_date, b.is_date), pc.invert(unsure))
    return pc.if_else(ok, sign, pa.scalar(None, pa.int8()))


def _component(key: str, dates_ok: bool):
    def fn(t: Terms) -> Terms:
        d = parse(t)
        ok = d.valid if dates_ok else pc.and_(d.valid, pc.invert(d.is_date))
        value = parse_int(pc.if_else(ok, d.fields[key], NULL_STR))
        return literal(pc.cast(value, pa.string()), XSD_INTEGER)
    return fn


def seconds(t: Terms) -> Terms:
    d = parse(t)
    sec = pc.cast(pc.if_else(pc.and_(d.valid, pc.invert(d.is_date)), d.fields["s"], NULL_STR), pa.float64())
    whole = pc.fill_null(pc.match_substring_regex(d.fields["s"], r"^[0-9]+$"), False)  # "01" -> "1"
    return num_terms(pc.if_else(pc.is_valid(sec), pa.scalar(1, pa.int8()), pa.scalar(None, pa.int8())), sec,
                     whole=whole)


def timezone(t: Terms) -> Terms:
    """The timezone as an xsd:dayTimeDuration (``-PT8H``, ``PT0S``); error without one."""
    d = parse(t)
    tz = pc.if_else(d.has_tz, d.fields["tz"], NULL_STR)
    hh, mm = _int(pc.utf8_slice_codeunits(tz, 1, 3)), _int(pc.utf8_slice_codeunits(tz, 4, 6))
    h_part = where(pc.greater(hh, 0), pc.binary_join_element_wise(pc.cast(hh, pa.string()), "H", ""), "")
    m_part = where(pc.greater(mm, 0), pc.binary_join_element_wise(pc.cast(mm, pa.string()), "M", ""), "")
    body = pc.binary_join_element_wise("PT", h_part, m_part, "")
    zero = pc.and_(pc.equal(hh, 0), pc.equal(mm, 0))
    body = where(zero, "PT0S", body)
    body = where(pc.and_(pc.starts_with(tz, "-"), pc.invert(zero)), pc.binary_join_element_wise("-", body, ""), body)
    body = where(pc.equal(tz, "Z"), "PT0S", body)
    return literal(pc.if_else(pc.is_valid(tz), body, NULL_STR), XSD_DAYTIMEDURATION)


def tz(t: Terms) -> Terms:
    d = parse(t)
    return literal(pc.if_else(d.valid, d.fields["tz"], NULL_STR))


DATE_SCALARS = {
    "YEAR": _component("y", True), "MONTH": _component("mo", True), "DAY": _component("d", True),
    "HOURS": _component("h", False), "MINUTES": _component("mi", False), "SECONDS": seconds,
    "TIMEZONE": timezone, "TZ": tz,
}

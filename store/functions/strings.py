"""String functions: STRLEN SUBSTR UCASE LCASE STRSTARTS STRENDS CONTAINS STRBEFORE STRAFTER
ENCODE_FOR_URI CONCAT REGEX REPLACE and the hashes MD5 SHA1 SHA256 SHA384 SHA512."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import Terms

from .base import (
    NULL_STR,
    XSD_INTEGER,
    XSD_STRING,
    all_of,
    booleans,
    compatible,
    endswith,
    full,
    is_constant,
    is_simple,
    is_string,
    like,
    literal,
    map_distinct,
    np_strings,
    numeric,
    scatter,
    startswith,
    to_np,
    where,
)

_BOOL_NULL = pa.scalar(None, pa.bool_())


def strlen(s: Terms) -> Terms:
    return literal(pc.cast(pc.utf8_length(s.value), pa.string()), XSD_INTEGER, ok=is_string(s))


def substr(s: Terms, start: Terms, length: Terms | None = None) -> Terms:
    """XPath fn:substring: the characters at 1-based positions p with
    round(start) <= p < round(start) + round(length)."""
    st = numeric(start)
    ok = all_of(is_string(s), st.valid())
    first = np.floor(to_np(st.num, np.nan) + 0.5)
    end = np.full(len(s), np.inf)
    if length is not None:
        ln = numeric(length)
        ok = all_of(ok, ln.valid())
        with np.errstate(invalid="ignore"):
            end = first + np.floor(to_np(ln.num, np.nan) + 0.5)
    empty = np.isnan(first) | np.isnan(end)
    lo = np.clip(np.where(empty, 0.0, first - 1), 0, 2.0 ** 53)
    hi = np.clip(np.where(empty, 0.0, end - 1), lo, 2.0 ** 53)
    if len(s) and (lo == lo[0]).all() and (hi == hi[0]).all():  # constant bounds
        value = pc.utf8_slice_codeunits(s.value, int(lo[0]), int(hi[0]))
    else:
        value = pa.array(np.strings.slice(np_strings(s.value), lo.astype(np.int64), hi.astype(np.int64)))
    return like(s, pc.if_else(ok, value, NULL_STR), ok)


def _case(fn):
    def run(s: Terms) -> Terms:
        return like(s, fn(s.value), is_string(s))
    return run


def _contains(a: pa.Array, b: pa.Array) -> pa.Array:
    if is_constant(b):
        return pc.match_substring(a, b[0].as_py())
    return pa.array(np.strings.find(np_strings(a), np_strings(b)) >= 0)


def _test(fn):
    def run(a: Terms, b: Terms) -> Terms:
        ok = compatible(a, b)
        return booleans(pc.if_else(ok, fn(a.value, b.value), _BOOL_NULL))
    return run


def _split(a: Terms, b: Terms):
    """Position of b in a (codepoints, -1 if absent) and the numpy strings."""
    text, sub = np_strings(a.value), np_strings(b.value)
    return text, sub, np.strings.find(text, sub)


def strbefore(a: Terms, b: Terms) -> Terms:
    ok = compatible(a, b)
    text, _, pos = _split(a, b)
    value = pa.array(np.strings.slice(text, 0, np.maximum(pos, 0)))
    found = pa.array(pos >= 0)
    return _found_or_empty(a, value, found, ok)


def strafter(a: Terms, b: Terms) -> Terms:
    ok = compatible(a, b)
    text, sub, pos = _split(a, b)
    start = np.where(pos >= 0, pos + np.strings.str_len(sub), 0)
    value = pa.array(np.strings.slice(text, start, np.strings.str_len(text)))
    return _found_or_empty(a, value, pa.array(pos >= 0), ok)


def _found_or_empty(a: Terms, value: pa.Array, found: pa.Array, ok) -> Terms:
    """The match with a's language / datatype, or a simple empty literal when absent."""
    hit = like(a, value)
    miss = literal(full("", len(a)))
    return Terms(*(pc.if_else(found, h, m) for h, m in zip(
        (hit.kind, hit.value, hit.datatype, hit.lang), (miss.kind, miss.value, miss.datatype, miss.lang), strict=False))
                 ).mask(ok)


def encode_for_uri(s: Terms) -> Terms:
    plain = pc.match_substring_regex(s.value, r"^[A-Za-z0-9._~-]*$")
    value = where(plain, s.value, map_distinct(pc.if_else(plain, NULL_STR, s.value),
                                               lambda v: quote(v, safe="")))
    return literal(value, ok=is_string(s))


def concat(*args: Terms, n: int | None = None) -> Terms:
    """CONCAT: simple literal, or language-tagged when every argument has the same tag."""
    if not args:
        return literal(full("", int(n or 0)))
    ok = all_of(*(is_string(a) for a in args))
    value = pc.binary_join_element_wise(*(a.value for a in args), "")
    lang = args[0].lang
    for a in args[1:]:
        lang = pc.if_else(pc.equal(lang, a.lang), lang, NULL_STR)
    return literal(pc.if_else(ok, value, NULL_STR), XSD_STRING, lang=pc.if_else(ok, lang, NULL_STR))


# -- regular expressions ----------------------------------------------------------------------
def _translate(pattern: str, flags: str) -> tuple[str, int] | None:
    """XPath pattern + flags -> (pattern with inline flags, re flags); None if flags invalid."""
    if set(flags) - set("smixq"):
        return None
    if "q" in flags:
        pattern = re.escape(pattern)
    elif "x" in flags:  # drop whitespace outside character classes
        pattern = re.sub(r"(\[(?:\\.|[^\]])*\])|[ \t\n\r]+", lambda m: m.group(1) or "", pattern)
    inline = "".join(f for f in "ism" if f in flags)
    return (f"(?{inline})" if inline else "") + pattern, 0


def _groups(*keys: pa.Array) -> tuple[pa.Array, pa.Array]:
    combo = pc.binary_join_element_wise(*keys, "\x00")
    return combo, pc.unique(combo).drop_null()


def _run_by_pattern(text: pa.Array, keys: list[pa.Array], ok, apply, type_) -> pa.Array:
    """Run ``apply(strings, *key_values)`` once per distinct (pattern, flags, ...) combination
    (a constant pattern, the usual case, is a single vectorised call)."""
    if all(is_constant(k) for k in keys):  # the usual case: one vectorised call
        out = apply(text, *(k[0].as_py() for k in keys))
        return pc.if_else(ok, out, pa.scalar(None, type_))
    keys = [pc.if_else(ok, k, NULL_STR) for k in keys]
    combo, uniq = _groups(*keys)
    parts = []
    for u in uniq.to_pylist():  # loop over distinct patterns, not rows
        rows = np.flatnonzero(to_np(pc.equal(combo, u), False))
        sub = text.take(pa.array(rows))
        parts.append((rows, apply(sub, *u.split("\x00"))))
    return scatter(len(text), parts, type_)


def _regex_match(strings: pa.Array, pattern: str, flags: str) -> pa.Array:
    tr = _translate(pattern, flags)
    if tr is None:
        return pa.nulls(len(strings), pa.bool_())
    try:
        return pc.match_substring_regex(strings, tr[0])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # RE2 rejects it: use Python re
        try:
            rx = re.compile(tr[0])
        except re.error:
            return pa.nulls(len(strings), pa.bool_())
        return map_distinct(strings, lambda v: rx.search(v) is not None, pa.bool_())


def regex(text: Terms, pattern: Terms, flags: Terms | None = None) -> Terms:
    flag_ok = True if flags is None else is_simple(flags)
    flag_values = full("", len(text)) if flags is None else flags.value
    ok = all_of(is_string(text), is_simple(pattern), flag_ok)
    out = _run_by_pattern(text.value, [pattern.value, flag_values], ok, _regex_match, pa.bool_())
    return booleans(out)


def _replacement(repl: str, python: bool) -> str:
    """XPath replacement ($N groups, \\$ and \\\\ escapes) -> RE2 or Python syntax."""
    out, i = [], 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            out.append("\\\\" if repl[i + 1] == "\\" else repl[i + 1])
            i += 2
        elif c == "$" and i + 1 < len(repl) and repl[i + 1].isdigit():
            out.append(f"\\g<{repl[i + 1]}>" if python else "\\" + repl[i + 1])
            i += 2
        else:
            out.append("\\\\" if c == "\\" else c)
            i += 1
    return "".join(out)


def _regex_replace(strings: pa.Array, pattern: str, repl: str, flags: str) -> pa.Array:
    tr = _translate(pattern, flags)
    if tr is None:
        return pa.nulls(len(strings), pa.string())
    try:
        return pc.replace_substring_regex(strings, tr[0], _replacement(repl, False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # RE2 rejects it: use Python re
        try:
            rx = re.compile(tr[0])
            py_repl = _replacement(repl, True)
            return map_distinct(strings, lambda v: rx.sub(py_repl, v))
        except (re.error, IndexError):
            return pa.nulls(len(strings), pa.string())


def replace(text: Terms, pattern: Terms, repl: Terms, flags: Terms | None = None) -> Terms:
    flag_ok = True if flags is None else is_simple(flags)
    flag_values = full("", len(text)) if flags is None else flags.value
    ok = all_of(is_string(text), is_simple(pattern), is_simple(repl), flag_ok)
    out = _run_by_pattern(text.value, [pattern.value, repl.value, flag_values], ok, _regex_replace,
                          pa.string())
    return like(text, out, pc.is_valid(out))


def _hash(name: str):
    def run(s: Terms) -> Terms:
        ok = is_simple(s)
        digest = map_distinct(pc.if_else(ok, s.value, NULL_STR),
                              lambda v: hashlib.new(name, v.encode("utf-8")).hexdigest())
        return literal(digest, ok=ok)
    return run


STRING_SCALARS = {
    "STRLEN": strlen, "SUBSTR": substr, "UCASE": _case(pc.utf8_upper), "LCASE": _case(pc.utf8_lower),
    "STRSTARTS": _test(startswith), "STRENDS": _test(endswith), "CONTAINS": _test(_contains),
    "STRBEFORE": strbefore, "STRAFTER": strafter, "ENCODE_FOR_URI": encode_for_uri,
    "CONCAT": concat, "REGEX": regex, "REPLACE": replace,
    "MD5": _hash("md5"), "SHA1": _hash("sha1"), "SHA256": _hash("sha256"),
    "SHA384": _hash("sha384"), "SHA512": _hash("sha512"),
}

"""GREL and IDLab string functions used by RML-FNML mappings, on Arrow arrays."""
from __future__ import annotations

import html

import pyarrow as pa
import pyarrow.compute as pc

from eolinked import ntriples
from eolinked.vocab import GREL, IDLAB_FN, XSD


def _text(v):
    if isinstance(v, pa.Scalar):
        return pa.scalar(None if not v.is_valid else str(v.as_py()), pa.string())
    return ntriples.as_text(v)


def _int(v) -> int:
    return int(v.as_py() if isinstance(v, pa.Scalar) else v[0].as_py())


def upper(a):
    return pc.utf8_upper(_text(a[GREL + "valueParam"])), None


def lower(a):
    return pc.utf8_lower(_text(a[GREL + "valueParam"])), None


def trim(a):
    return pc.utf8_trim_whitespace(_text(a[GREL + "valueParam"])), None


def length(a):
    return pc.utf8_length(_text(a[GREL + "valueParam"])).cast(pa.string()), XSD + "integer"


def replace(a):
    find = a[GREL + "param_find"].as_py()
    repl = a[GREL + "param_replace"].as_py()
    return pc.replace_substring(_text(a[GREL + "valueParam"]), find, repl), None


def substring(a):
    """GREL substring: from ``p_int_i_from`` to the optional end; null when start is past the end."""
    s = _text(a[GREL + "valueParam"])
    start = _int(a[GREL + "p_int_i_from"])
    end = a.get(GREL + "p_int_i_opt_to")
    stop = _int(end) if end is not None else None
    out = pc.utf8_slice_codeunits(s, start=start, stop=stop if stop is not None else 2**31 - 1)
    too_far = pc.less(pc.utf8_length(s), start)
    return pc.if_else(too_far, pa.scalar(None, pa.string()), out), None


def escape(a):
    mode = a[GREL + "modeParam"].as_py().lower()
    s = _text(a[GREL + "valueParam"])
    if mode in ("html", "xml"):
        for raw in ("&", "<", ">", '"', "'"):
            s = pc.replace_substring(s, raw, html.escape(raw, quote=True))
        return s, None
    if mode == "url":
        return ntriples.iri_safe(s), None
    return s, None


def to_upper_url(a):
    """IDLab toUpperCaseURL: upper-case, with ``http://`` prepended when there is no scheme."""
    up = pc.utf8_upper(_text(a[IDLAB_FN + "str"]))
    has_scheme = pc.match_substring_regex(up, "^[A-Z][A-Z0-9+.-]*://")
    return pc.if_else(has_scheme, up, pc.binary_join_element_wise("http://", up, "")), None


def equal(a):
    eq = pc.equal(_text(a[GREL + "valueParam"]), _text(a[GREL + "valueParam2"]))
    return pc.if_else(eq, "true", "false"), XSD + "boolean"


def always_abc(a):
    return pa.scalar("ABC"), None


OUTPUTS = {GREL + "stringOut", GREL + "output_number", GREL + "output_bool", GREL + "output_string",
           IDLAB_FN + "_stringOut", IDLAB_FN + "_boolOut", IDLAB_FN + "_output"}

FUNCTIONS = {
    GREL + "toUpperCase": (upper, [GREL + "valueParam"]),
    GREL + "toLowerCase": (lower, [GREL + "valueParam"]),
    GREL + "string_trim": (trim, [GREL + "valueParam"]),
    GREL + "string_length": (length, [GREL + "valueParam"]),
    GREL + "string_replace": (replace, [GREL + "valueParam", GREL + "param_find", GREL + "param_replace"]),
    GREL + "string_substring": (substring, [GREL + "valueParam", GREL + "p_int_i_from", GREL + "p_int_i_opt_to"]),
    GREL + "escape": (escape, [GREL + "valueParam", GREL + "modeParam"]),
    IDLAB_FN + "toUpperCaseURL": (to_upper_url, [IDLAB_FN + "str"]),
    IDLAB_FN + "equal": (equal, [GREL + "valueParam", GREL + "valueParam2"]),
    IDLAB_FN + "alwaysReturnsABC": (always_abc, []),
}

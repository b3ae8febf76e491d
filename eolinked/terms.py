"""RDF terms as Arrow arrays, and their canonical N-Triples text.

The store, the SPARQL function library and the result writers all pass terms around as
string arrays in canonical N-Triples form (``<iri>``, ``_:label``, ``"lex"``, ``"lex"@lang``,
``"lex"^^<datatype>``; null = unbound or error).  The form is the one pyoxigraph prints, so
equal terms have equal text: a simple literal has no ``^^xsd:string``, language tags are lower
case, and a literal escapes ``\\ " \\n \\r \\t \\b \\f`` and the other controls as ``\\u00XX``.
:class:`Terms` is the same column split into kind, value, datatype and language.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .vocab import RDF_LANG_STRING, XSD_STRING

BLANK, IRI, LITERAL = 0, 1, 2

_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
                  "\b": "\\b", "\f": "\\f"}
_CONTROLS = [chr(c) for c in [*range(0x20), 0x7F] if chr(c) not in _SHORT_ESCAPES]
_NEEDS_ESCAPE = r'[\x00-\x1f\x7f\\"]'
_UNESCAPE = {v: k for k, v in _SHORT_ESCAPES.items()}
_LITERAL_RE = r'^"(?P<lex>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[^@]+)|\^\^<(?P<dt>[^>]*)>)?$'


@dataclass
class Terms:
    """A column of RDF terms: ``kind`` (BLANK / IRI / LITERAL, int8), ``value`` (IRI, blank node
    label or lexical form), ``datatype`` (IRI; xsd:string for simple literals, rdf:langString
    with a language; null for IRIs and blank nodes) and ``lang`` (lower case, or null).
    A null ``kind`` is an unbound value or an error."""

    kind: pa.Array
    value: pa.Array
    datatype: pa.Array
    lang: pa.Array

    def __len__(self) -> int:
        return len(self.kind)

    @classmethod
    def literals(cls, value, datatype=XSD_STRING, lang=None) -> "Terms":
        """Literals from lexical forms; ``datatype`` and ``lang`` are a string or an array."""
        value = _string_array(value)
        n = len(value)
        kind = pc.if_else(pc.is_null(value), pa.scalar(None, pa.int8()), pa.scalar(LITERAL, pa.int8()))
        lang = _broadcast(lang, n)
        if isinstance(lang, pa.Array) and lang.null_count < n:
            datatype = pc.if_else(pc.is_valid(lang), RDF_LANG_STRING, _broadcast(datatype, n))
            lang = pc.utf8_lower(lang)
        datatype = pc.if_else(pc.is_null(value), pa.scalar(None, pa.string()), _broadcast(datatype, n))
        return cls(kind, value, datatype, lang)

    @classmethod
    def iris(cls, value) -> "Terms":
        value = _string_array(value)
        kind = pc.if_else(pc.is_null(value), pa.scalar(None, pa.int8()), pa.scalar(IRI, pa.int8()))
        none = pa.nulls(len(value), pa.string())
        return cls(kind, value, none, none)

    def take(self, indices) -> "Terms":
        return Terms(*(pc.take(a, indices) for a in (self.kind, self.value, self.datatype, self.lang)))

    def is_literal(self) -> pa.Array:
        return pc.equal(self.kind, LITERAL)

    def mask(self, keep) -> "Terms":
        """Null (error) wherever ``keep`` is false or null."""
        keep = pc.fill_null(keep, False)
        return Terms(*(pc.if_else(keep, a, pa.scalar(None, a.type))
                       for a in (self.kind, self.value, self.datatype, self.lang)))


def _string_array(values) -> pa.Array:
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def _broadcast(value, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, pa.string())
    if isinstance(value, str):
        return pa.array(np.full(n, value, dtype=object), pa.string()) if n else pa.array([], pa.string())
    return _string_array(value)


def escape(lex: pa.Array) -> pa.Array:
    """Escape a lexical form for use between double quotes, canonically."""
    lex = _string_array(lex)
    if not pc.any(pc.match_substring_regex(lex, _NEEDS_ESCAPE)).as_py():
        return lex
    for raw, esc in _SHORT_ESCAPES.items():  # backslash first
        lex = pc.replace_substring(lex, raw, esc)
    for c in _CONTROLS:
        lex = pc.replace_substring(lex, c, f"\\u{ord(c):04X}")
    return lex


def unescape(text: pa.Array) -> pa.Array:
    """Undo N-Triples / SPARQL string escapes (``\\t``, ``\\uXXXX``, ``\\UXXXXXXXX``, ...)."""
    text = _string_array(text)
    has = pc.match_substring(text, "\\")
    if not pc.any(has).as_py():
        return text
    out = np.array(text.to_pylist(), dtype=object)
    idx = np.flatnonzero(pc.fill_null(has, False).to_numpy(zero_copy_only=False))
    out[idx] = [_unescape_one(s) for s in out[idx]]  # only the values that hold a backslash
    return pa.array(out, pa.string())


def _unescape_one(s: str) -> str:
    parts, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            nxt = s[i + 1]
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                parts.append(chr(int(s[i + 2:i + 2 + width], 16)))
                i += 2 + width
                continue
            parts.append(_UNESCAPE.get("\\" + nxt, {"'": "'"}.get(nxt, nxt)))
            i += 2
            continue
        parts.append(c)
        i += 1
    return "".join(parts)


def to_nt(terms: Terms) -> pa.Array:
    """Canonical N-Triples text of each term (null stays null)."""
    n = len(terms)
    if n == 0:
        return pa.array([], pa.string())
    kind = terms.kind
    iri = pc.binary_join_element_wise("<", terms.value, ">", "")
    blank = pc.binary_join_element_wise("_:", terms.value, "")
    quoted = pc.binary_join_element_wise('"', escape(terms.value), '"', "")
    simple = pc.or_kleene(pc.is_null(terms.datatype), pc.equal(terms.datatype, XSD_STRING))
    with_lang = pc.binary_join_element_wise(quoted, "@", pc.utf8_lower(terms.lang), "")
    typed = pc.binary_join_element_wise(quoted, "^^<", terms.datatype, ">", "")
    literal = pc.if_else(pc.is_valid(terms.lang), with_lang,
                         pc.if_else(pc.fill_null(simple, True), quoted, typed))
    out = pc.if_else(pc.equal(kind, IRI), iri, pc.if_else(pc.equal(kind, BLANK), blank, literal))
    return pc.if_else(pc.is_null(kind), pa.scalar(None, pa.string()), out)


def from_nt(nt) -> Terms:
    """Split canonical N-Triples text into :class:`Terms` (null stays null)."""
    nt = _string_array(nt)
    first = pc.utf8_slice_codeunits(nt, 0, 1)
    is_iri, is_blank = pc.equal(first, "<"), pc.equal(first, "_")
    kind = pc.if_else(is_iri, pa.scalar(IRI, pa.int8()),
                      pc.if_else(is_blank, pa.scalar(BLANK, pa.int8()), pa.scalar(LITERAL, pa.int8())))
    iri_value = pc.utf8_slice_codeunits(nt, 1, -1)
    blank_value = pc.utf8_slice_codeunits(nt, 2)
    lit = pc.extract_regex(pc.if_else(pc.equal(first, '"'), nt, pa.scalar(None, pa.string())), _LITERAL_RE)
    lex = unescape(pc.struct_field(lit, "lex"))
    lang = pc.struct_field(lit, "lang")
    dt = pc.struct_field(lit, "dt")
    lang = pc.if_else(pc.equal(lang, ""), pa.scalar(None, pa.string()), lang)
    dt = pc.if_else(pc.equal(dt, ""), pa.scalar(None, pa.string()), dt)
    dt = pc.if_else(pc.is_valid(lang), RDF_LANG_STRING, pc.fill_null(dt, XSD_STRING))
    value = pc.if_else(is_iri, iri_value, pc.if_else(is_blank, blank_value, lex))
    none = pa.scalar(None, pa.string())
    is_lit = pc.equal(kind, LITERAL)
    kind = pc.if_else(pc.or_kleene(pc.invert(is_lit), pc.is_valid(lit)), kind, pa.scalar(None, pa.int8()))
    return Terms(kind, value, pc.if_else(is_lit, dt, none), pc.if_else(is_lit, lang, none))

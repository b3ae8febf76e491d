"""N-Triples term building over Arrow string arrays: escaping, IRI-safe encoding, validation.

Every function takes and returns ``pyarrow`` string arrays; nulls pass through.
"""
from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# RFC 3987 iunreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" / ucschar
_UCS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U000efffd"
_NOT_IUNRESERVED = f"[^A-Za-z0-9._~{_UCS}-]"
# characters that may not appear in an N-Triples IRIREF (plus controls and space)
_IRI_FORBIDDEN = r'[\x00-\x20<>"{}|^`\\]'
_SCHEME = r"^[A-Za-z][A-Za-z0-9+.\-]*:"
_LITERAL_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"))


def as_text(arr: pa.Array) -> pa.Array:
    """Cast any scalar-typed array to its lexical strings (XSD-style booleans, ISO dates/times)."""
    t = arr.type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.cast(pa.string())
    if pa.types.is_timestamp(t):
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_dictionary(t):
        return as_text(arr.dictionary_decode())
    if pa.types.is_floating(t):
        return _float_text(arr)
    return arr.cast(pa.string())


def _float_text(arr: pa.Array) -> pa.Array:
    text = arr.cast(pa.string())
    text = pc.replace_substring(text, "inf", "INF")
    return pc.replace_substring(text, "nan", "NaN")


def escape_literal(arr: pa.Array) -> pa.Array:
    """Escape backslash, quote, CR and LF for use inside ``"..."``."""
    if not pc.any(pc.match_substring_regex(arr, r'[\\"\n\r]')).as_py():
        return arr
    for raw, esc in _LITERAL_ESCAPES:
        if pc.any(pc.match_substring(arr, raw)).as_py():
            arr = pc.replace_substring(arr, raw, esc)
    return arr


def iri_safe(arr: pa.Array, keep_ucs: bool = True) -> pa.Array:
    """Percent-encode every character outside RFC 3987 iunreserved (the R2RML IRI-safe form);
    with ``keep_ucs=False`` non-ASCII characters are encoded too (URI-safe)."""
    needs = pc.match_substring_regex(arr, _NOT_IUNRESERVED if keep_ucs else "[^A-Za-z0-9._~-]")
    if not pc.any(needs).as_py():
        return arr
    bad = pc.filter(arr, needs)
    chars = set("".join(bad.to_pylist()))
    offending = sorted(c for c in chars if not (_is_iunreserved(c) and (keep_ucs or c.isascii())))
    # '%' first, so that the escapes we add are not encoded again
    offending.sort(key=lambda c: c != "%")
    out = arr
    for c in offending:
        out = pc.replace_substring(out, c, quote(c, safe=""))
    return out


def uri_safe(arr: pa.Array) -> pa.Array:
    """Percent-encode all but ASCII unreserved characters (RML-Core rml:URI)."""
    return iri_safe(arr, keep_ucs=False)


def _is_iunreserved(c: str) -> bool:
    o = ord(c)
    return (c.isascii() and (c.isalnum() or c in "-._~")) or 0xA0 <= o <= 0xD7FF or \
        0xF900 <= o <= 0xFDCF or 0xFDF0 <= o <= 0xFFEF or 0x10000 <= o <= 0xEFFFD


def blank_label(arr: pa.Array) -> pa.Array:
    """Make values usable as blank node labels (letters, digits, '_' and '-'; others hex-escaped)."""
    needs = pc.match_substring_regex(arr, r"[^A-Za-z0-9_\-]")
    if not pc.any(needs).as_py():
        return arr
    chars = set("".join(pc.filter(arr, needs).to_pylist()))
    out = pc.replace_substring(arr, "_", "_5F") if "_" in chars else arr
    for c in sorted(chars):
        if not (c.isascii() and (c.isalnum() or c == "-")) and c != "_":
            out = pc.replace_substring(out, c, "".join(f"_{b:02X}" for b in c.encode()))
    return out


def is_absolute_iri(arr: pa.Array) -> pa.Array:
    return pc.match_substring_regex(arr, _SCHEME)


def invalid_iris(arr: pa.Array) -> pa.Array:
    """Boolean mask of values that cannot be written as an N-Triples IRI."""
    return pc.match_substring_regex(arr, _IRI_FORBIDDEN)


def wrap(arr, prefix: str, suffix: str):
    """``prefix + value + suffix`` for every value (null stays null)."""
    return pc.binary_join_element_wise(prefix, arr, suffix, "")


def utf8_bytes(arr) -> memoryview:
    """The UTF-8 bytes of a null-free string array (all values back to back), without copying."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    arr = arr.cast(pa.string()) if arr.type != pa.string() else arr
    if len(arr) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start, end = offsets[arr.offset], offsets[arr.offset + len(arr)]
    data = arr.buffers()[2]
    return memoryview(data)[start:end] if data is not None else memoryview(b"")

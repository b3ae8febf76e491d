"""Functions on RDF terms: STR LANG LANGMATCHES DATATYPE IRI/URI BNODE STRDT STRLANG UUID
STRUUID isIRI isURI isBLANK isLITERAL isNUMERIC."""
from __future__ import annotations

import hashlib
import itertools
import secrets
from urllib.parse import urljoin

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import BLANK, IRI, LITERAL, Terms, to_nt

from .base import (
    NULL_STR,
    RDF_LANG_STRING,
    all_of,
    booleans,
    full,
    is_kind,
    is_simple,
    literal,
    map_distinct,
    numeric,
    startswith,
    where,
)

_ABSOLUTE = r"^[A-Za-z][A-Za-z0-9+.-]*:"
_LANG_TAG = r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"
_calls = itertools.count()


def str_(t: Terms) -> Terms:
    return literal(t.value, ok=pc.or_(is_kind(t, IRI), is_kind(t, LITERAL)))


def lang(t: Terms) -> Terms:
    return literal(pc.fill_null(t.lang, ""), ok=is_kind(t, LITERAL))


def langmatches(tag: Terms, rng: Terms) -> Terms:
    """RFC 4647 basic filtering: ``*`` matches any non-empty tag, else a case-insensitive
    equal tag or a prefix followed by ``-``."""
    t, r = pc.utf8_lower(tag.value), pc.utf8_lower(rng.value)
    prefix = startswith(t, pc.binary_join_element_wise(r, "-", ""))
    hit = pc.or_(pc.equal(t, r), prefix)
    hit = where(pc.equal(r, "*"), pc.not_equal(t, ""), hit)
    return booleans(hit).mask(all_of(is_simple(tag), is_simple(rng)))


def datatype(t: Terms) -> Terms:
    return Terms.iris(pc.if_else(is_kind(t, LITERAL), t.datatype, NULL_STR))


def iri(t: Terms, base: Terms | None = None) -> Terms:
    """IRI()/URI(): an IRI stays; a simple literal becomes an IRI, resolved (RFC 3986) against
    ``base`` (the query's base IRI as an IRI term, broadcast; the engine passes it as a trailing
    argument) when relative.  Without a base a relative reference stays relative."""
    text = pc.if_else(pc.or_(is_kind(t, IRI), is_simple(t)), t.value, NULL_STR)
    if base is None:
        return Terms.iris(text)
    relative = all_of(pc.invert(pc.match_substring_regex(text, _ABSOLUTE)), is_kind(base, IRI))
    if pc.any(relative).as_py():  # resolve once per distinct (base, reference)
        pair = pc.binary_join_element_wise(base.value, pc.if_else(relative, text, NULL_STR), "\x00")
        resolved = map_distinct(pair, lambda s: urljoin(*s.split("\x00", 1)))
        text = where(relative, resolved, text)
    return Terms.iris(text)


def bnode(t: Terms, seed: Terms | None = None) -> Terms:
    """BNODE(str).  With ``seed`` (any term, null taken as empty: it must be unique per solution
    and per query and the same for every BNODE call on that solution) the label is a digest of
    (seed, str): the same string gives the same blank node within a solution, across BNODE calls,
    and different ones across solutions.  Without a seed, equal strings share a blank node within
    this one call, fresh per call."""
    ok = is_simple(t)
    if seed is not None:
        seed_text = pc.fill_null(to_nt(seed), "")
        key = pc.if_else(ok, pc.binary_join_element_wise(seed_text, t.value, "\x00"), NULL_STR)
        label = map_distinct(key, lambda k: "b" + hashlib.blake2b(k.encode("utf-8"), digest_size=12).hexdigest())
    else:
        key = pc.if_else(ok, t.value, NULL_STR)
        ids = pc.index_in(key, value_set=pc.unique(key).drop_null())
        salt = f"b{next(_calls)}{secrets.token_hex(3)}x"
        label = pc.binary_join_element_wise(salt, pc.cast(ids, pa.string()), "")
    kind = pc.if_else(pc.is_valid(label), pa.scalar(BLANK, pa.int8()), pa.scalar(None, pa.int8()))
    none = pa.nulls(len(t), pa.string())
    return Terms(kind, label, none, none)


def strdt(lex: Terms, dt: Terms) -> Terms:
    ok = all_of(is_simple(lex), is_kind(dt, IRI), pc.not_equal(dt.value, RDF_LANG_STRING))
    return literal(pc.if_else(ok, lex.value, NULL_STR), pc.fill_null(dt.value, ""), ok=ok)


def strlang(lex: Terms, tag: Terms) -> Terms:
    ok = all_of(is_simple(lex), is_simple(tag), pc.match_substring_regex(tag.value, _LANG_TAG))
    return literal(pc.if_else(ok, lex.value, NULL_STR), lang=pc.if_else(ok, tag.value, NULL_STR))


def _uuids(n: int) -> pa.Array:
    raw = np.random.default_rng().integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hex_pairs = np.array([f"{b:02x}" for b in range(256)], dtype="<U2")[raw]
    text = pa.array(np.ascontiguousarray(hex_pairs).view("<U32").ravel(), pa.string())
    cuts = [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)]
    return pc.binary_join_element_wise(*(pc.utf8_slice_codeunits(text, a, b) for a, b in cuts), "-")


def uuid(*args: Terms, n: int | None = None) -> Terms:
    """Fresh ``urn:uuid:`` IRIs, one per row (length from the first argument or ``n``)."""
    n = len(args[0]) if args else int(n or 0)
    return Terms.iris(pc.binary_join_element_wise("urn:uuid:", _uuids(n), "") if n else full(None, 0))


def struuid(*args: Terms, n: int | None = None) -> Terms:
    n = len(args[0]) if args else int(n or 0)
    return literal(_uuids(n) if n else full(None, 0))


def _is(kind: int):
    def fn(t: Terms) -> Terms:
        return booleans(pc.equal(t.kind, kind))
    return fn


def is_numeric(t: Terms) -> Terms:
    return booleans(pc.if_else(pc.is_valid(t.kind), numeric(t).valid(), pa.scalar(None, pa.bool_())))


TERM_SCALARS = {
    "STR": str_, "LANG": lang, "LANGMATCHES": langmatches, "DATATYPE": datatype,
    "IRI": iri, "URI": iri, "BNODE": bnode, "STRDT": strdt, "STRLANG": strlang,
    "UUID": uuid, "STRUUID": struuid, "ISIRI": _is(IRI), "ISURI": _is(IRI),
    "ISBLANK": _is(BLANK), "ISLITERAL": _is(LITERAL), "ISNUMERIC": is_numeric,
}

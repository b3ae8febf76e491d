"""Evaluate term maps over a batch into N-Triples terms, vectorised over Arrow arrays."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked import ntriples
from eolinked.errors import EolinkedError
from eolinked.vocab import WKT_LITERAL

from .functions import call_function
from .geometry import GeometryColumn
from .model import BLANK, IRI, LITERAL, UNSAFE_IRI, URI, TermMap
from .sources.base import ROW_REFS, Batch
from .values import Values, combine, constant, mask

_LANG = r"^([a-zA-Z]{2,3}|[xXiI])(-[a-zA-Z0-9]{1,8})*$"


@dataclass
class Context:
    """Everything term evaluation needs for one batch of one triples map."""

    batch: Batch
    tm_name: str
    source_path: str
    base_iri: str
    natural: bool
    geometry: GeometryColumn
    report: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.batch.table.num_rows


def raw_values(tm: TermMap, ctx: Context) -> Values:
    """The lexical values a term map yields (before it becomes a term)."""
    if tm.kind == "constant":
        return constant(tm.lexical)
    if tm.kind == "reference":
        return reference_values(tm.reference, ctx)
    if tm.kind == "template":
        safe = {IRI: ntriples.iri_safe, URI: ntriples.uri_safe, BLANK: ntriples.blank_label}.get(tm.term_type)
        parts = []
        for kind, text in tm.template.parts:
            if kind == "text":
                parts.append(constant(text))
            else:
                v = reference_values(text, ctx, as_text=True)
                parts.append(_apply(v, safe) if safe else v)
        return combine(parts, lambda arrs: pc.binary_join_element_wise(*arrs, ""), ctx.n)
    if tm.kind == "function":
        return call_function(tm.function, ctx, raw_values)
    return Values(dense=pa.nulls(ctx.n, pa.string()))


def reference_values(ref: str, ctx: Context, as_text: bool = False) -> Values:
    key = (ref, as_text)
    if key in ctx.cache:
        return ctx.cache[key]
    if ref in ROW_REFS:
        out = Values(dense=pa.array(np.arange(ctx.batch.offset + 1, ctx.batch.offset + ctx.n + 1)).cast(pa.string()))
    else:
        col = ctx.batch.table.column(ref).combine_chunks()
        types = ctx.batch.types.get(ref)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            rows = pc.list_parent_indices(col).to_numpy()
            out = Values(rows=rows, sparse=ntriples.as_text(pc.list_flatten(col)),
                         types=pc.list_flatten(types) if types is not None else None)
        elif ctx.geometry.is_geometry_ref(ref):
            out = Values(dense=ctx.geometry.wkt_lexical(ref) if as_text else col)
        else:
            out = Values(dense=ntriples.as_text(col), types=types)
    ctx.cache[key] = out
    return out


def _apply(v: Values, fn) -> Values:
    if v.is_const:
        return constant(fn(pa.array([v.const]))[0].as_py())
    if v.dense is not None:
        return Values(dense=fn(v.dense), types=v.types)
    return Values(rows=v.rows, sparse=fn(v.sparse), types=v.types)


def term_values(tm: TermMap, ctx: Context) -> Values:
    """N-Triples terms of a term map (nulls where it yields no term)."""
    if tm.kind == "constant":
        out = constant(tm.constant)
    elif tm.term_type == BLANK and tm.kind == "blank":
        rows = pa.array(np.arange(ctx.batch.offset, ctx.batch.offset + ctx.n)).cast(pa.string())
        out = Values(dense=ntriples.wrap(rows, f"_:{tm.key}r", ""))
    else:
        if tm.kind == "reference" and tm.term_type == LITERAL and ctx.geometry.is_geometry_ref(tm.reference):
            raw = Values(dense=ctx.geometry.wkt_lexical(tm.reference), types=WKT_LITERAL)
        else:
            raw = raw_values(tm, ctx)
        out = _make_terms(tm, raw, ctx)
    if tm.condition is not None:
        out = mask(out, _condition(tm.condition, ctx))
    return out


def _make_terms(tm: TermMap, raw: Values, ctx: Context) -> Values:
    if tm.term_type in (IRI, URI, UNSAFE_IRI):
        return _apply(raw, lambda a: _iris(a, tm, ctx))
    if tm.term_type == BLANK:
        return _apply(raw, lambda a: ntriples.wrap(ntriples.blank_label(a), "_:", ""))
    return _literals(tm, raw, ctx)


def _iris(arr: pa.Array, tm: TermMap, ctx: Context) -> pa.Array:
    arr = ntriples.as_text(arr)
    absolute = ntriples.is_absolute_iri(arr)
    if not pc.all(pc.fill_null(absolute, True)).as_py():
        arr = pc.if_else(absolute, arr, ntriples.wrap(arr, ctx.base_iri, ""))
    if tm.term_type in (IRI, URI):
        bad = pc.fill_null(ntriples.invalid_iris(arr), False)
        if pc.any(bad).as_py() and not ctx.natural:
            # legacy RML (R2RML): a data error leaves the term out; counted in the report
            ctx.report["invalid_iri"] = ctx.report.get("invalid_iri", 0) + pc.sum(bad).as_py()
            arr = pc.if_else(bad, pa.scalar(None, pa.string()), arr)
        elif pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            raise EolinkedError(
                f"triples map {ctx.tm_name} makes an invalid IRI {arr[i].as_py()!r} "
                f"(from {tm.node or 'a term map'})", where=f"{ctx.source_path} record {ctx.batch.offset + i + 1}",
                hint="use rml:template (which percent-encodes values) or clean the data")
    return ntriples.wrap(arr, "<", ">")


def _literals(tm: TermMap, raw: Values, ctx: Context) -> Values:
    if tm.language_map is not None or tm.datatype_map is not None:
        sub = tm.language_map or tm.datatype_map
        tags = raw_values(sub, ctx)
        if tm.language_map is not None:
            _check_languages(tags, ctx)
            tags = _apply(tags, lambda a: ntriples.wrap(a, "@", ""))
        else:
            tags = _apply(tags, lambda a: ntriples.wrap(_iris(a, sub, ctx), "^^", ""))
        return combine([raw, tags], lambda a: pc.binary_join_element_wise(
            ntriples.wrap(ntriples.escape_literal(ntriples.as_text(a[0])), '"', '"'), a[1], ""), ctx.n)
    if tm.language:
        suffix = "@" + tm.language
    elif tm.datatype:
        suffix = f"^^<{tm.datatype}>"
    else:
        suffix = ""
    # natural datatypes: RML-Core's for JSON values, a function's own, and geometry columns' wktLiteral
    natural = raw.types is not None and not suffix and (
        ctx.natural or tm.kind == "function" or (isinstance(raw.types, str) and raw.types == WKT_LITERAL))

    def build(a):
        lex = ntriples.wrap(ntriples.escape_literal(ntriples.as_text(a)), '"', '"' + suffix)
        if not natural:
            return lex
        types = raw.types
        if isinstance(types, str):
            return ntriples.wrap(lex, "", f"^^<{types}>")
        dt = pc.fill_null(ntriples.wrap(types, "^^<", ">"), "")
        return pc.binary_join_element_wise(lex, dt, "")

    return _apply(raw, build)


def _check_languages(tags: Values, ctx: Context) -> None:
    arr = tags.data()
    if isinstance(arr, pa.Scalar):
        arr = pa.array([arr.as_py()], pa.string())
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(ntriples.as_text(arr), _LANG), True))
    if pc.any(bad).as_py():
        value = arr.filter(bad)[0].as_py()
        raise EolinkedError(f"triples map {ctx.tm_name} makes an invalid language tag {value!r}",
                            where=ctx.source_path, hint="language tags follow BCP 47, e.g. 'en' or 'de-AT'")


def _condition(cond: TermMap, ctx: Context) -> pa.Array:
    v = raw_values(cond, ctx)
    if v.is_const:
        return pa.repeat(pa.scalar(str(v.const).lower() in ("true", "1")), ctx.n)
    if v.sparse is not None:
        raise EolinkedError(f"triples map {ctx.tm_name}: a condition must give one value per record",
                            where=ctx.source_path)
    return pc.is_in(pc.utf8_lower(ntriples.as_text(v.dense)), pa.array(["true", "1"]))

"""Aggregates over groups given as a list array of N-Triples terms (one list per group):
SUM AVG MIN MAX SAMPLE GROUP_CONCAT.  Null elements are skipped.

SUM writes its result like ``+`` does (see :mod:`.base`); AVG always canonically (``2.0``);
MIN / MAX return decimal / float / double values in that form too (``2E-1`` -> ``2.0E-1``),
integers and other terms unchanged."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.terms import BLANK, Terms, from_nt

from .base import NULL_STR, is_kind, literal, num_terms, numeric, to_np
from .compare import sort_key


def _flat(values: pa.ListArray) -> tuple[Terms, np.ndarray, int]:
    """The non-null elements as terms, their group numbers and the number of groups."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    flat = pc.list_flatten(values)
    parents = pc.list_parent_indices(values)
    keep = pc.is_valid(flat)
    return from_nt(pc.filter(flat, keep)), to_np(pc.filter(parents, keep), 0).astype(np.int64), len(values)


def _sums(values: pa.ListArray):
    """Per group: rank, float sum, int sum, count, and whether every element was numeric."""
    t, g, n = _flat(values)
    num = numeric(t)
    valid = to_np(num.valid(), False)
    bad = np.bincount(g[~valid], minlength=n) > 0
    rank = np.zeros(n, np.int8)
    np.maximum.at(rank, g[valid], to_np(num.rank, 0)[valid])
    fsum = np.bincount(g, weights=to_np(num.num, 0.0), minlength=n)
    ival = to_np(num.ival, 0)
    no_ival = np.bincount(g[valid & ~to_np(pc.is_valid(num.ival), False)], minlength=n) > 0
    isum = np.zeros(n, np.int64)
    np.add.at(isum, g, ival)
    count = np.bincount(g, minlength=n)
    int_bad = (rank == 0) & (no_ival | (np.abs(fsum) > 9.2e18))
    whole = np.bincount(g[~to_np(num.whole, False)], minlength=n) == 0
    return rank, fsum, isum, count, ~(bad | int_bad), whole


def agg_sum(values: pa.ListArray, separator: str | None = None) -> Terms:
    rank, fsum, isum, _, ok, whole = _sums(values)
    return num_terms(pa.array(rank), pa.array(fsum), pa.array(isum), pa.array(whole)).mask(pa.array(ok))


def agg_avg(values: pa.ListArray, separator: str | None = None) -> Terms:
    rank, fsum, _, count, ok, _ = _sums(values)
    with np.errstate(all="ignore"):
        mean = fsum / count
    empty = count == 0
    out_rank = np.where(empty, 0, np.maximum(rank, 1)).astype(np.int8)
    return num_terms(pa.array(out_rank), pa.array(np.where(empty, 0.0, mean)),
                     pa.array(np.zeros(len(rank), np.int64))).mask(pa.array(ok))


def _pick(values: pa.ListArray, descending: bool, keyed: bool = True) -> Terms:
    """The first element of each group in sort_key order (or as listed); error if empty."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    flat = pc.list_flatten(values)
    g = pc.list_parent_indices(values)
    keep = pc.is_valid(flat)
    flat, g = pc.filter(flat, keep), pc.filter(g, keep)
    columns = {"g": g, "i": pa.array(np.arange(len(flat)))}
    order = [("g", "ascending")]
    if keyed:
        columns["k"] = sort_key(from_nt(flat))
        order.append(("k", "descending" if descending else "ascending"))
    table = pa.table(columns).sort_by([*order, ("i", "ascending")])
    gs = to_np(table["g"].combine_chunks(), 0)
    first = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if len(gs) else np.array([], np.int64)
    picked = np.full(len(values), -1, np.int64)
    picked[gs[first]] = to_np(table["i"].combine_chunks(), 0)[first]
    idx = pa.array(picked, mask=picked < 0)
    return from_nt(pc.take(flat, idx))


def _rewrite_numbers(t: Terms) -> Terms:
    """Decimal / float / double literals in canonical form (integer ones unchanged)."""
    num = numeric(t)
    real = pc.fill_null(pc.greater_equal(num.rank, 1), False)
    if not pc.any(real).as_py():
        return t
    lit = num_terms(num.rank, num.num, num.ival, num.whole)
    return Terms(*(pc.if_else(real, a, b) for a, b in zip(
        (lit.kind, lit.value, lit.datatype, lit.lang), (t.kind, t.value, t.datatype, t.lang), strict=True)))


def agg_min(values: pa.ListArray, separator: str | None = None) -> Terms:
    return _rewrite_numbers(_pick(values, descending=False))


def agg_max(values: pa.ListArray, separator: str | None = None) -> Terms:
    return _rewrite_numbers(_pick(values, descending=True))


def agg_sample(values: pa.ListArray, separator: str | None = None) -> Terms:
    return _pick(values, descending=False, keyed=False)


def agg_group_concat(values: pa.ListArray, separator: str | None = None) -> Terms:
    """Lexical forms (IRIs as text) joined by ``separator`` (default one space), as a simple
    literal; a blank node in the group is an error."""
    t, g, n = _flat(values)
    blank = np.bincount(g[to_np(is_kind(t, BLANK), False)], minlength=n) > 0
    counts = np.bincount(g, minlength=n)
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pc.fill_null(t.value, ""))
    joined = pc.binary_join(lists, " " if separator is None else separator)
    return literal(pc.if_else(pa.array(blank), NULL_STR, joined))


AGGREGATES = {
    "SUM": agg_sum, "AVG": agg_avg, "MIN": agg_min, "MAX": agg_max,
    "SAMPLE": agg_sample, "GROUP_CONCAT": agg_group_concat,
}

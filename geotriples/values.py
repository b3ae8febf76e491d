"""Values of a term map over a batch, and aligning several of them record by record.

A ``Values`` is a constant, a dense array (one entry per record, null = no value), or
sparse ``(rows, values)`` pairs when a reference selects several values per record.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Values:
    const: object = None  # a Python scalar (str) when constant
    dense: pa.Array | None = None
    rows: np.ndarray | None = None
    sparse: pa.Array | None = None
    types: object = None  # natural datatypes: same shape as the values (str const, array) or None

    @property
    def is_const(self) -> bool:
        return self.dense is None and self.sparse is None

    def data(self):
        if self.is_const:
            return pa.scalar(self.const, pa.string()) if isinstance(self.const, str) else pa.scalar(self.const)
        return self.dense if self.dense is not None else self.sparse


def constant(value, types=None) -> Values:
    return Values(const=value, types=types)


def combine(parts: Sequence[Values], fn: Callable[[list], object], n: int, typed: bool = False) -> Values:
    """Apply ``fn`` to the parts aligned record by record (a cross product within a record).

    ``fn`` receives Arrow arrays or scalars and must map null inputs to null outputs. With
    ``typed`` it returns ``(values, types)``.
    """
    def call(args):
        out = fn(args)
        return out if typed else (out, None)

    if all(p.is_const for p in parts):
        vals, types = call([p.data() for p in parts])
        if isinstance(vals, pa.Scalar):
            vals = vals.as_py()
        elif isinstance(vals, (pa.Array, pa.ChunkedArray)):
            vals = vals[0].as_py() if len(vals) else None
        if isinstance(types, (pa.Array, pa.ChunkedArray)):
            types = types[0].as_py() if len(types) else None
        elif isinstance(types, pa.Scalar):
            types = types.as_py()
        return constant(vals, types)
    if all(p.sparse is None for p in parts):
        vals, types = call([p.data() for p in parts])
        if isinstance(vals, pa.Scalar):
            vals = pa.repeat(vals, n)
        return Values(dense=vals, types=types)
    rows, aligned = align(parts)
    vals, types = call(aligned)
    if isinstance(vals, pa.Scalar):
        vals = pa.repeat(vals, len(rows))
    return Values(rows=rows, sparse=vals, types=types)


def align(parts: Sequence[Values]):
    """Inner-join the non-constant parts on their record number; constants stay scalars."""
    table = None
    for i, p in enumerate(parts):
        if p.is_const:
            continue
        if p.sparse is not None:
            rows, vals = p.rows, p.sparse
        else:
            valid = p.dense.is_valid()
            rows = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
            vals = p.dense.filter(valid)
        t = pa.table({"__row": pa.array(rows, pa.int64()), f"v{i}": vals})
        table = t if table is None else table.join(t, "__row", join_type="inner")
    table = table.sort_by("__row")
    rows = table.column("__row").to_numpy()
    aligned = [p.data() if p.is_const else table.column(f"v{i}").combine_chunks()
               for i, p in enumerate(parts)]
    return rows, aligned


def to_sparse(v: Values, n: int) -> tuple[np.ndarray, pa.Array]:
    """Record numbers and values of non-null entries."""
    if v.is_const:
        rows = np.arange(n) if v.const is not None else np.arange(0)
        return rows, pa.repeat(pa.scalar(v.const), len(rows))
    if v.sparse is not None:
        return v.rows, v.sparse
    valid = v.dense.is_valid()
    return np.flatnonzero(valid.to_numpy(zero_copy_only=False)), v.dense.filter(valid)


def any_value(v: Values) -> bool:
    if v.is_const:
        return v.const is not None
    arr = v.dense if v.dense is not None else v.sparse
    return len(arr) > arr.null_count


def mask(v: Values, keep: pa.Array) -> Values:
    """Null out values of records where ``keep`` (one boolean per record) is not true."""
    keep = pc.fill_null(keep, False)
    if v.is_const:
        return Values(dense=pc.if_else(keep, pa.scalar(v.const, pa.string()), pa.scalar(None, pa.string())))
    if v.dense is not None:
        return Values(dense=pc.if_else(keep, v.dense, pa.scalar(None, v.dense.type)), types=v.types)
    sel = keep.take(pa.array(v.rows))
    return Values(rows=v.rows[sel.to_numpy(zero_copy_only=False)], sparse=v.sparse.filter(sel))

"""The SQL functions the compiled queries call, registered on a SedonaDB connection.

``sp(name, args...)``  a SPARQL / GeoSPARQL function -> term (N-Triples text)
``spb(name, args...)`` its effective boolean value (``spb('EBV', x)`` for a term itself)
``spv(name, seed)``    RAND / UUID / STRUUID / BNODE(): a fresh value per row
``sp_nt(x)``           a term id (or text) -> N-Triples text
``sp_key(x)``          ORDER BY sort key (bytes)
``sp_agg(name, list, separator)`` SUM / AVG / MIN / MAX / GROUP_CONCAT over a group's values
Arguments may be term ids (resolved against the dictionary held in memory) or term text.
"""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eolinked.geosparql import GEO_AGGREGATES, GEO_SCALARS, Geoms, geometries, geometry_rows
from eolinked.terms import Terms, from_nt, to_nt

from .functions import AGGREGATES, SCALARS, ebv, sort_key

FUNCTIONS = {**SCALARS, **GEO_SCALARS}
AGGREGATE_FUNCTIONS = {**AGGREGATES, **GEO_AGGREGATES}
_fresh = itertools.count()
# SedonaDB calls UDFs from its own worker threads, where PROJ (through pyproj) crashes; the
# function library therefore runs in one Python thread of ours, one batch at a time.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparql-functions")


def register_udfs(con, nt: pa.Array) -> None:
    from sedonadb import udf

    def text(arg) -> pa.Array:
        a = pa.array(arg.to_array()) if hasattr(arg, "to_array") else pa.array(arg)
        if pa.types.is_integer(a.type):
            return pc.take(nt, a)
        if pa.types.is_null(a.type):
            return pa.nulls(len(a), pa.string())
        return a.cast(pa.string())

    def _decode(arg, geo: bool):
        """Terms of an argument.  Term ids are decoded once per distinct id, and for a GeoSPARQL
        function a column of geometry literals is parsed once per distinct id and handed over
        parsed (a large polygon met in thousands of candidate pairs is read once)."""
        a = pa.array(arg.to_array()) if hasattr(arg, "to_array") else pa.array(arg)
        if not pa.types.is_integer(a.type):
            return from_nt(text(a))
        enc = a.dictionary_encode()
        uniq = from_nt(pc.take(nt, enc.dictionary))
        if not (geo and len(uniq) and geometry_rows(uniq).all()):
            return uniq.take(enc.indices)
        parsed = geometries(uniq)
        idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)  # -1: unbound -> None
        return Geoms(np.append(parsed.geom, None)[idx], np.append(parsed.crs, None)[idx])

    def name_of(arg) -> str | None:
        names = text(arg)
        return names[0].as_py() if len(names) else None

    def call(args) -> Terms:
        name = name_of(args[0])
        if name is None:  # an empty batch: nothing to compute (some kernels fail on no rows)
            return from_nt(pa.array([], pa.string()))
        fn = FUNCTIONS.get(name)
        terms = [_decode(a, name in GEO_SCALARS) for a in args[1:]]
        if fn is None:  # an unknown function is an error, i.e. unbound, for every row
            return from_nt(pa.nulls(len(text(args[0])), pa.string()))
        return _WORKER.submit(fn, *terms).result()

    @udf.arrow_udf(pa.string(), None, name="sp")
    def sp(*args):
        return to_nt(call(args))

    @udf.arrow_udf(pa.bool_(), None, name="spb")
    def spb(*args):
        if name_of(args[0]) == "EBV":
            return ebv(from_nt(text(args[1])))
        return ebv(call(args))

    @udf.arrow_udf(pa.string(), None, volatility="volatile", name="spv")
    def spv(name, seed):
        return _volatile(name_of(name), len(text(seed)))

    @udf.arrow_udf(pa.string(), None, name="sp_nt")
    def sp_nt(x):
        return text(x)

    @udf.arrow_udf(pa.binary(), None, name="sp_key")
    def sp_key(x):
        return sort_key(from_nt(text(x)))

    @udf.arrow_udf(pa.string(), None, name="sp_agg")
    def sp_agg(name, values, separator):
        return _aggregate(name_of(name), pa.array(values.to_array()), name_of(separator))

    def _aggregate(fname, lists, sep):
        if len(lists) == 0:
            return pa.array([], pa.string())
        flat = text(pc.list_flatten(lists)) if len(lists) else pa.array([], pa.string())
        lists = pa.ListArray.from_arrays(lists.offsets, flat, mask=pc.is_null(lists))
        has_null = pc.greater(pc.list_value_length(lists), pc.list_value_length(_drop_nulls(lists)))
        out = _WORKER.submit(AGGREGATE_FUNCTIONS[fname], _drop_nulls(lists), sep).result()
        if fname in ("SUM", "AVG"):  # an error inside the group makes the aggregate an error
            out = out.mask(pc.invert(pc.fill_null(has_null, False)))
        return to_nt(out)

    for f in (sp, spb, spv, sp_nt, sp_key, sp_agg):
        con.register(f)


def _drop_nulls(lists: pa.ListArray) -> pa.ListArray:
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    keep = pc.is_valid(flat)
    counts = np.bincount(pc.filter(parents, keep).to_numpy(), minlength=len(lists))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pc.filter(flat, keep))


def _volatile(name: str | None, n: int) -> pa.Array:
    if n == 0:
        return pa.array([], pa.string())
    rng = np.random.default_rng()
    if name == "RAND":
        vals = pa.array(rng.random(n)).cast(pa.string())
        return to_nt(Terms.literals(vals, datatype="http://www.w3.org/2001/XMLSchema#double"))
    if name in ("UUID", "STRUUID"):
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        digits = np.array(list("0123456789abcdef"))[np.stack([raw >> 4, raw & 15], axis=2).reshape(n, 32)]
        hexes = pa.array(digits.view("<U32").ravel() if n else [], pa.string())
        parts = [pc.utf8_slice_codeunits(hexes, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
        uid = pc.binary_join_element_wise(*parts, "-")
        if name == "UUID":
            return to_nt(Terms.iris(pc.binary_join_element_wise("urn:uuid:", uid, "")))
        return to_nt(Terms.literals(uid))
    if name == "BNODE":
        start = next(_fresh) * 1_000_000_000
        labels = pc.binary_join_element_wise("_:f", pa.array(np.arange(start, start + n)).cast(pa.string()), "")
        return labels
    raise ValueError(f"no volatile function {name}")

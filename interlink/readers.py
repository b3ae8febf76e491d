"""Input: which reader a path needs (RDF, Parquet triples or geo file), and the checks before reading."""
from __future__ import annotations

import os

import pyarrow.parquet as pq

from eolinked.errors import EolinkedError

from .features import Features
from .geofiles import ROW, read_geofile
from .rdf import RDF_FORMATS, read_rdf

__all__ = ["Features", "read_features"]


def read_features(path, id_template: str | None = None, layer=None, option: str = "--source-id",
                  batch_size: int = 65536) -> Features:
    """Read a dataset; ``id_template`` is required for geo files and refused for RDF."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path (relative to the working directory)")
    kind = _kind(path)
    if kind == "vector":
        if not id_template:
            raise EolinkedError(f"a geo file needs {option} to name its features", where=path,
                                hint=f"e.g. {option} 'http://example.org/parcel/{{id}}' with an attribute "
                                     f"of the file in braces ({{{ROW}}} is the record number)")
        return read_geofile(path, id_template, layer, option, batch_size)
    if id_template:
        raise EolinkedError(f"{option} applies to geo files only; RDF features keep their own IRIs", where=path,
                            hint=f"leave out {option}")
    return read_rdf(path, parquet=kind == "parquet-triples")


def _kind(path: str) -> str:
    low = path.lower().removesuffix(".gz")
    if low.endswith((".parquet", ".geoparquet")):
        meta = pq.read_schema(path)
        if b"geo" not in (meta.metadata or {}) and {"s", "p", "o"} <= set(meta.names):
            return "parquet-triples"
        return "vector"
    return "rdf" if os.path.splitext(low)[1] in RDF_FORMATS else "vector"


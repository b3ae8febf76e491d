"""Input: which reader a path needs (RDF, Parquet triples or geo file), and the checks before reading."""
from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.vectorio import vector_info

from .features import Features
from .geofiles import ROW, read_geofile
from .rdf import RDF_FORMATS, read_rdf

__all__ = ["Features", "part_files", "read_features"]


def read_features(path, id_template: str | None = None, layer=None, option: str = "--source-id",
                  batch_size: int = 65536) -> Features:
    """Read a dataset; ``id_template`` is required for geo files and refused for RDF.

    A directory is a dataset written in part files (Spark's ``out.nt/part-00000.nt``, ...): its
    ``part-*`` files are read in name order as one dataset (RDF parts as one document, so blank
    node labels are shared; geo file parts numbered on from one another for ``{__row}``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path (relative to the working directory)")
    if os.path.isdir(path):
        return _read_parts(path, id_template, layer, option, batch_size)
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


def part_files(directory: str) -> list[str]:
    """The ``part-*`` data files of a directory written in parts, in name order (no checksums)."""
    names = sorted(n for n in os.listdir(directory)
                   if n.startswith("part-") and not n.endswith(".crc") and os.path.isfile(os.path.join(directory, n)))
    if not names:
        raise EolinkedError("the directory holds no part-* files", where=directory,
                            hint="give a file, or a directory of part files as Spark writes them "
                                 "(part-00000.nt, part-00000.parquet, ...)")
    return [os.path.join(directory, n) for n in names]


def _read_parts(directory: str, id_template, layer, option: str, batch_size: int) -> Features:
    parts = part_files(directory)
    kinds = {p: _kind(p) for p in parts}
    if len(set(kinds.values())) > 1 or (kinds[parts[0]] == "rdf" and len({_rdf_ext(p) for p in parts}) > 1):
        raise EolinkedError("the part files are of different kinds: " + ", ".join(
            sorted({os.path.basename(p) for p in parts})[:6]), where=directory,
            hint="a directory is read as one dataset: all part files in one format")
    kind = kinds[parts[0]]
    if kind != "vector":
        if id_template:
            raise EolinkedError(f"{option} applies to geo files only; RDF features keep their own IRIs",
                                where=directory, hint=f"leave out {option}")
        parts = [p for p in parts if os.path.getsize(p) > 0 or kind == "parquet-triples"]
        return read_rdf(directory, parquet=kind == "parquet-triples", parts=parts)
    if not id_template:
        raise EolinkedError(f"geo files need {option} to name their features", where=directory,
                            hint=f"e.g. {option} 'http://example.org/parcel/{{id}}' ({{{ROW}}} is the record "
                                 "number, counted on across the part files)")
    read, row = [], 0
    for p in parts:
        read.append(read_geofile(p, id_template, layer, option, batch_size, first_row=row + 1))
        row += vector_info(p, layer).feature_count
    crs = read[0].crs
    geoms = [f.geoms if f.crs.equals(crs) else crslib.reproject(f.geoms, f.crs, crs) for f in read]
    notes = list(dict.fromkeys(n for f in read for n in f.notes))
    ids = pa.concat_arrays([f.ids for f in read])
    return Features(ids, np.concatenate(geoms), crs, directory, notes)


def _rdf_ext(path: str) -> str:
    return os.path.splitext(path.lower().removesuffix(".gz"))[1]


def _kind(path: str) -> str:
    low = path.lower().removesuffix(".gz")
    if low.endswith((".parquet", ".geoparquet")):
        meta = pq.read_schema(path)
        if b"geo" not in (meta.metadata or {}) and {"s", "p", "o"} <= set(meta.names):
            return "parquet-triples"
        return "vector"
    return "rdf" if os.path.splitext(low)[1] in RDF_FORMATS else "vector"


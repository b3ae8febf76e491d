"""Open a mapping's logical source as a reader: one module per source kind."""
from __future__ import annotations

import os
import re

from eolinked.errors import EolinkedError

from ..model import LogicalSource
from .base import ROW, ROW_REFS, Batch, Source

__all__ = ["ROW", "ROW_REFS", "Batch", "Source", "is_uri", "open_source", "resolve_path"]


def resolve_path(ls: LogicalSource, mapping_dir: str, overrides: dict[str, str]) -> str:
    """A source path: overridden by ``-s NAME=PATH`` (NAME = the path as written, its file name or stem),
    else relative to the mapping file (or the working directory when the mapping says so)."""
    raw = ls.path or ""
    name = os.path.basename(raw)
    for key in (raw, name, os.path.splitext(name)[0]):
        if key in overrides:
            return overrides[key]
    if is_uri(raw) and not raw.startswith("file://"):  # hdfs://, s3a://, ...: for the Spark engine
        return raw
    if os.path.isabs(raw) or raw.startswith(("file://", "/vsi")):
        return raw.removeprefix("file://")
    root = os.getcwd() if ls.option("root") == "cwd" else mapping_dir
    return os.path.normpath(os.path.join(root, raw))


def is_uri(path: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", path) is not None


def open_source(ls: LogicalSource, path: str, source_crs=None) -> Source:
    path = path.removeprefix("file://")
    if is_uri(path):
        raise EolinkedError("the local engine reads local files only", where=path,
                            hint="run with --engine spark to read hdfs://, s3a:// and other Hadoop paths")
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise EolinkedError("source file not found", where=path,
                            hint="check rml:source/rml:path in the mapping (relative to the mapping file), "
                                 "or override it with -s NAME=PATH")
    if ls.formulation == "csv":
        from .csv import CsvSource
        src = CsvSource(path, ls.option("delimiter"), ls.option("encoding"), ls.option("null"))
    elif ls.formulation == "jsonpath":
        from .json import JsonSource
        src = JsonSource(path, ls.iterator, ls.option("encoding"))
    elif ls.formulation == "raster":
        from .raster import RasterSource
        src = RasterSource(path, band=int(ls.option("band", "1")))
    else:
        from .vector import VectorSource
        src = VectorSource(path, ls.layer, encoding=ls.option("encoding"))
    if src.crs is None and source_crs is not None:
        src.crs = source_crs
    return src

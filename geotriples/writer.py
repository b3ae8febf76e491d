"""Output: N-Triples, N-Quads or Turtle (optionally gzip), streamed to a temporary file then renamed."""
from __future__ import annotations

import glob
import gzip
import os
import re
import shutil
import sys
import tempfile

import pyarrow.compute as pc

from eolinked.errors import EolinkedError
from eolinked.ntriples import utf8_bytes
from eolinked.outputs import normal_mode

FORMATS = {"nt": "N-Triples", "nq": "N-Quads", "ttl": "Turtle"}
_EXT = {".nt": "nt", ".ntriples": "nt", ".nq": "nq", ".nquads": "nq", ".ttl": "ttl", ".turtle": "ttl"}


def format_for(path: str, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise EolinkedError(f"unknown output format {fmt!r}", hint=f"choose one of {', '.join(FORMATS)}")
        return fmt
    ext = os.path.splitext(path.removesuffix(".gz"))[1].lower()
    if path == "-" or not ext:
        return "nt"
    if ext not in _EXT:
        raise EolinkedError(f"cannot tell the RDF format of {path!r} from its extension", where=path,
                            hint="name it .nt, .nq or .ttl (optionally .gz), or pass --format")
    return _EXT[ext]


def abbreviate(arr, prefixes: dict[str, str]):
    """Turtle: write whole-term IRIs and literal datatypes in a declared namespace as prefixed names."""
    for prefix, ns in prefixes.items():
        esc = re.escape(ns)
        arr = pc.replace_substring_regex(arr, f"^<{esc}([A-Za-z0-9_][A-Za-z0-9_-]*)>$", f"{prefix}:\\1")
        arr = pc.replace_substring_regex(arr, f"\\^\\^<{esc}([A-Za-z0-9_][A-Za-z0-9_-]*)>$", f"^^{prefix}:\\1")
    return arr


class TripleWriter:
    """Context manager: the output file appears complete or not at all."""

    def __init__(self, path: str, fmt: str | None = None, prefixes: dict[str, str] | None = None):
        self.path = path
        self.format = format_for(path, fmt)
        self.prefixes = prefixes or {}
        self.count = 0
        self._tmp = None
        self._fh = None

    def __enter__(self):
        if self.path == "-":
            self._fh = sys.stdout.buffer
        else:
            directory = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(directory):
                raise EolinkedError("output directory does not exist", where=directory,
                                    hint="create it first or choose another -o path")
            fd, self._tmp = tempfile.mkstemp(prefix=".eolinked-", suffix=".part", dir=directory)
            os.close(fd)
            normal_mode(self._tmp)
            raw = open(self._tmp, "wb", buffering=1 << 22)
            self._fh = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=4) if self.path.endswith(".gz") else raw
            self._raw = raw
        if self.format == "ttl":
            header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes.items())
            self._fh.write((header + "\n").encode())
        return self

    def write(self, arrays) -> None:
        for arr in arrays:
            if len(arr):
                self._fh.write(utf8_bytes(arr))
                self.count += len(arr)

    def part_path(self, i: int) -> str:
        """A scratch file beside the output, for a worker's share of it."""
        directory = os.path.dirname(os.path.abspath(self.path)) if self.path != "-" else tempfile.gettempdir()
        return os.path.join(directory, f".eolinked-{os.getpid()}-{id(self)}-{i}.part")

    def append_part(self, part: str, count: int) -> None:
        """Append a worker's part file (then delete it)."""
        try:
            with open(part, "rb") as fh:
                if self._fh is getattr(self, "_raw", None):  # a plain file: let the kernel copy
                    self._fh.flush()
                    size, sent = os.fstat(fh.fileno()).st_size, 0
                    while sent < size:
                        sent += os.sendfile(self._fh.fileno(), fh.fileno(), sent, size - sent)
                else:
                    shutil.copyfileobj(fh, self._fh, 1 << 22)
            self.count += count
        finally:
            os.remove(part)

    def write_bytes(self, data: bytes, count: int) -> None:
        self._fh.write(data)
        self.count += count

    def __exit__(self, exc_type, exc, tb):
        if self.path == "-":
            self._fh.flush()
            return False
        try:
            self._fh.close()
            if self._fh is not self._raw:
                self._raw.close()
        finally:
            if exc_type is None:
                os.replace(self._tmp, self.path)
            else:
                for leftover in [self._tmp, *glob.glob(self.part_path(0)[:-len("0.part")] + "*.part")]:
                    if os.path.exists(leftover):
                        os.remove(leftover)
        return False

"""Bulk loader: RDF files (or the Spark transformer's Parquet triples) -> a new store version.

Every input is parsed by pyoxigraph and re-serialised per batch as canonical N-Quads (both in
Rust), so each term has one text whatever the format: ``"x"^^xsd:string`` is ``"x"``, language
tags are lower case, escapes are canonical.  Parquet triples (columns s, p, o[, g] of N-Triples
terms) are written as N-Quads lines and parsed the same way; a directory (a Spark job's output)
loads its ``part-*`` files.  N-Triples / N-Quads are read a block of lines at a time, and a bad
line is found and skipped (or reported) on its own (:func:`parse_lines`).  The lines are cut into
s/p/o/g term strings with Arrow kernels, dictionary-encoded against the terms seen so far and
spilled as sorted int64 batch files, so memory holds one batch plus the term dictionary.  At the
end each predicate is de-duplicated and written to its table, the term dictionary gets its typed
columns and geometries (an empty geometry literal is an empty geometry), and the new version is
switched in atomically (see :mod:`store.layout`).
"""
from __future__ import annotations

import fcntl
import gzip
import io
import itertools
import os
import re
import shutil
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pyoxigraph as ox
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.literals import literal_geometries
from eolinked.terms import from_nt
from eolinked.vocab import GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL, XSD

from . import layout

F = ox.RdfFormat
FORMATS = {".nt": F.N_TRIPLES, ".nq": F.N_QUADS, ".ttl": F.TURTLE, ".trig": F.TRIG,
           ".rdf": F.RDF_XML, ".owl": F.RDF_XML, ".xml": F.RDF_XML}
LINE_FORMATS = {F.N_TRIPLES, F.N_QUADS}
GEO_TYPES = (WKT_LITERAL, GML_LITERAL, GEOJSON_LITERAL)
MAX_REPORTED = 10_000           # report lines kept per kind of problem
_ROW_GROUP = 128 * 1024
_LS = pa.large_string()
_GRAPH_TAIL = r' (?:<[^"]*>|_:[^" ]*) \.\n$'  # a graph term after the object: no '"' can be in it
_O_AND_G = r'^(?P<o>.*) (?P<g><[^"]*>|_:[^" ]*) \.\n$'
# Parquet rows are checked to hold one term per column (so that they make one N-Quads line each);
# pyoxigraph validates and canonicalises the terms themselves
_IRI = r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>'
_BLANK = r'_:[^\s<>"]+'
_LIT = r'"(?:[^"\\\n\r]|\\.)*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^' + _IRI + ')?'
_PARQUET_CHECKS = {"s": f"^(?:{_IRI}|{_BLANK})$", "p": f"^{_IRI}$", "o": f"^(?:{_IRI}|{_BLANK}|{_LIT})$",
                   "g": f"^(?:{_IRI}|{_BLANK})$"}

TERMS_SCHEMA = pa.schema([("id", pa.int64()), ("nt", pa.string()), ("kind", pa.int8()), ("value", pa.string()),
                          ("datatype", pa.string()), ("lang", pa.string()), ("num", pa.float64()),
                          ("bool", pa.bool_()), ("ts", pa.timestamp("us", tz="UTC"))])
GEOM_SCHEMA = pa.schema([("id", pa.int64()), ("crs", pa.string()), ("wkb", pa.binary()), ("wkb84", pa.binary()),
                         ("minx", pa.float64()), ("miny", pa.float64()), ("maxx", pa.float64()),
                         ("maxy", pa.float64())])
QUAD_SCHEMA = pa.schema([("s", pa.int64()), ("p", pa.int64()), ("o", pa.int64()), ("g", pa.int64())])
TABLE_SCHEMA = pa.schema([("s", pa.int64()), ("o", pa.int64()), ("g", pa.int64())])

# numeric datatypes: integer types with their value ranges (None = unbounded), then decimal and floats
_INTEGERS = {"integer": (None, None), "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
             "long": (-2**63, 2**63 - 1), "int": (-2**31, 2**31 - 1), "short": (-2**15, 2**15 - 1),
             "byte": (-128, 127), "nonNegativeInteger": (0, None), "unsignedLong": (0, 2**64 - 1),
             "unsignedInt": (0, 2**32 - 1), "unsignedShort": (0, 65535), "unsignedByte": (0, 255),
             "positiveInteger": (1, None)}
_INT_RE = r"^[+-]?\d+$"
_DEC_RE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"
_FLOAT_RE = r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)$"
_DATE_RE = (r"^(?P<d>\d{4}-\d{2}-\d{2})(?:T(?P<t>\d{2}:\d{2}:\d{2})(?P<f>\.\d+)?)?"
            r"(?P<z>Z|(?P<sign>[+-])(?P<hh>\d{2}):(?P<mm>\d{2}))?$")


@dataclass
class LoadSummary:
    """What a load did: ``triples`` new unique triples stored, ``duplicates`` input triples dropped
    (repeated in the input or already stored), ``skipped`` bad input lines/rows dropped
    (``on_error="skip"``), ``invalid_geometries`` geometry literals that did not parse (kept as
    plain literals), ``report`` the problem report (None when there was nothing to report),
    ``seconds``, the live ``version`` and the store's ``total`` triples."""

    triples: int
    duplicates: int
    skipped: int
    invalid_geometries: int
    report: str | None
    seconds: float
    version: str
    total: int

    def line(self) -> str:
        text = (f"{self.triples:,} triples loaded ({self.duplicates:,} duplicates dropped) in "
                f"{self.seconds:.1f} s; the store ({self.version}) holds {self.total:,} triples")
        if self.skipped or self.invalid_geometries:
            text += (f"; {self.skipped:,} bad lines skipped, {self.invalid_geometries:,} geometry "
                     f"literals that do not parse; see {self.report}")
        return text


def load(store_dir, files, *, append: bool = False, graph: str | None = None, on_error: str = "fail",
         progress: bool | None = None, batch_size: int = 500_000) -> LoadSummary:
    """Load RDF ``files`` (.nt .nq .ttl .trig .rdf .owl .xml, optionally .gz, or Parquet triples with
    N-Triples columns s, p, o, g, or directories of Spark ``part-*`` files of those) into the store
    at ``store_dir`` as a new version.

    ``append`` adds to the live version (term ids stay); otherwise the store is replaced.
    ``graph`` puts default-graph triples into that named graph.  A malformed N-Triples / N-Quads
    line or Parquet row raises an error naming it; ``on_error="skip"`` drops exactly the bad lines
    / rows (the rest of a Turtle/TriG/RDF-XML file after a syntax error) and lists them in the report.
    """
    start = time.perf_counter()
    if on_error not in ("fail", "skip"):
        raise EolinkedError(f"on_error must be 'fail' or 'skip', not {on_error!r}")
    if batch_size < 1:
        raise EolinkedError(f"batch_size must be positive, not {batch_size}")
    inputs = _inputs(files)
    graph_nt = _graph_term(graph)
    store = Path(store_dir)
    if not store.parent.is_dir():
        raise EolinkedError("the store's parent directory does not exist", where=str(store.parent),
                            hint="create it first or choose another store directory")
    store.mkdir(exist_ok=True)
    with open(store / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EolinkedError("another load is writing this store", where=str(store),
                                hint="wait for it to finish") from None
        for stale in store.glob("v*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        old = layout.open_version(store) if append and layout.read_current(store) else None
        names = layout.versions(store)
        name = layout.version_name((layout.version_number(names[-1]) if names else 0) + 1)
        tmp = store / f"{name}.tmp"
        tmp.mkdir()
        try:
            run = _Run(tmp, old, graph_nt, on_error, batch_size)
            run.read(inputs, progress)
            summary = run.finish()
            _fsync_tree(tmp)
            os.rename(tmp, store / name)
            layout.fsync_dir(store)
            layout.write_current(store, name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for other in layout.versions(store):
            if other != name:
                shutil.rmtree(store / other, ignore_errors=True)
    report = str(store / name / "load-report.txt") if summary["report"] else None
    return LoadSummary(summary["triples"], summary["duplicates"], summary["skipped"], summary["invalid"],
                       report, time.perf_counter() - start, name, summary["total"])


# -- inputs ---------------------------------------------------------------------------------
def _inputs(files) -> list[tuple[Path, object, bool]]:
    """(path, RdfFormat or "parquet", gzip) per input file, checked before any work.  A directory
    is a Spark output (``out.nt/``, ``parcels.parquet/``): its ``part-*`` files are loaded."""
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    out = []
    for f in files:
        path = Path(f)
        if path.is_dir():
            out.extend(_spark_parts(path))
        elif path.is_file():
            out.append(_format_of(path))
        else:
            raise EolinkedError("input file not found", where=str(path), hint="check the path")
    return out


def _split_name(name: str) -> tuple[str, bool]:
    """(extension without .gz, gzip?) of a file name, lower case."""
    name = name.lower()
    gz = name.endswith(".gz")
    return Path(name[:-3] if gz else name).suffix, gz


def _format_of(path: Path, default: str | None = None) -> tuple[Path, object, bool]:
    """(path, format, gzip) from the file's extension; ``default`` (a directory's extension) is used
    for part files without an RDF extension (Spark's text writer names them ``part-*.txt[.gz]``)."""
    ext, gz = _split_name(path.name)
    if ext not in FORMATS and ext != ".parquet" and default is not None:
        ext = default
    if ext == ".parquet" and not gz:
        return path, "parquet", False
    if ext in FORMATS:
        return path, FORMATS[ext], gz
    raise EolinkedError("cannot tell the RDF format from the file extension", where=str(path),
                        hint="name it .nt .nq .ttl .trig .rdf .owl or .xml (optionally .gz), or .parquet, "
                             "or give a Spark output directory (out.nt/, out.parquet/)")


def _spark_parts(folder: Path) -> list[tuple[Path, object, bool]]:
    """The part files of a Spark output directory (``_SUCCESS``, ``.crc`` and hidden files skipped)."""
    parts = sorted(p for p in folder.iterdir()
                   if p.name.startswith("part-") and p.is_file() and not p.name.endswith(".crc"))
    if not parts:
        raise EolinkedError("the directory holds no part-* files", where=str(folder),
                            hint="give RDF files, or the directory a Spark job wrote (out.nt/, out.parquet/)")
    ext, _ = _split_name(folder.name)
    return [_format_of(p, ext if ext in FORMATS or ext == ".parquet" else None) for p in parts]


def _graph_term(graph: str | None) -> str | None:
    if graph is None:
        return None
    try:
        ox.NamedNode(graph)
    except ValueError as exc:
        raise EolinkedError(f"graph {graph!r} is not an absolute IRI: {exc}",
                            hint="e.g. graph='http://example.org/graph/1'") from None
    return f"<{graph}>"


class _Counted(io.RawIOBase):
    """A binary file that reports the bytes read to a progress bar."""

    def __init__(self, raw, bar):
        self.raw, self.bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.raw.readinto(b)
        self.bar.update(n)
        return n


def _prefetch(gen, depth: int = 1):
    """Run generator ``gen`` in a thread, ``depth`` items ahead; its exceptions re-raise here."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work():
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put((None, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((None, done))
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer
            q.put((exc, None))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            exc, item = q.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _lines(data) -> pa.LargeStringArray:
    """Newline-terminated lines (each keeps its newline) as a zero-copy Arrow array."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    offsets = np.r_[0, ends + 1].astype(np.int64)
    return pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))


def split_nquads(data, quads: bool):
    """Canonical N-Quads text (as pyoxigraph writes it) -> s, p, o, g term arrays (g null = default)."""
    lines = _lines(data)
    parts = pc.split_pattern(lines, " ", max_splits=2)   # subject and predicate hold no space
    s, p, rest = (pc.list_element(parts, i) for i in range(3))
    o = pc.binary_slice(rest.cast(pa.large_binary()), 0, -3).cast(_LS)  # drop " .\n"
    g = pa.nulls(len(lines), _LS)
    if quads:
        has_g = pc.match_substring_regex(rest, _GRAPH_TAIL)
        if pc.any(has_g).as_py():
            cut = pc.extract_regex(rest, _O_AND_G)
            o = pc.if_else(has_g, pc.struct_field(cut, "o"), o)
            g = pc.struct_field(cut, "g")
    return s, p, o, g


def _unreadable(path: Path, exc: Exception) -> EolinkedError:
    return EolinkedError(f"cannot read the file: {exc}", where=str(path),
                         hint="check that the file is complete (and gzip-compressed if it ends in .gz)")


def _line_blocks(reader, size: int, path: Path):
    """(bytes of whole lines, number of the first line) about ``size`` bytes at a time; the last
    line of a file may lack its newline.  A UTF-8 byte order mark at the start is dropped."""
    carry, line, first = b"", 1, True
    while True:
        try:
            chunk = reader.read(size)
        except (OSError, EOFError, ValueError) as exc:  # unreadable gzip, I/O errors
            raise _unreadable(path, exc) from None
        if first:
            chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
        if not chunk:
            if carry:
                yield carry, line
            return
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:  # no line end yet: read on
            carry = data
            continue
        block, carry = data[:cut], data[cut:]
        yield block, line
        line += block.count(b"\n")


def _nquads(data: bytes, fmt) -> bytes:
    out = io.BytesIO()
    ox.serialize(ox.parse(data, format=fmt, rename_blank_nodes=False), out, format=F.N_QUADS)
    return out.getvalue()


def _reason(exc: SyntaxError) -> str:
    """pyoxigraph's message without its position in the piece it parsed, plus the column."""
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    text = re.sub(r"^Parser error [^:]*: ", "", text)
    if text == "Unexpected end of file":
        text = "unexpected end of line (an unterminated string, IRI or statement)"
    return f"column {exc.offset}: {text}" if exc.offset else text


# what a well-formed N-Triples / N-Quads line looks like (blank and comment lines too); a line that does
# not match is parsed on its own, so the pattern only has to keep broken lines away from good ones
_WS = r"[ \t]*"
_TERM_IRI = r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>'
_TERM_BLANK = r'_:[^\x00-\x20<>"{}|^`\\]+'
_TERM_LIT = (r'"(?:[^"\\\n\r]|\\[tbnrf"\'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*"'
             r'(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^' + _TERM_IRI + ")?")
_NODE = f"(?:{_TERM_IRI}|{_TERM_BLANK})"
_LINE_RE = (f"^{_WS}(?:{_NODE}{_WS}{_TERM_IRI}{_WS}(?:{_NODE}|{_TERM_LIT})(?:{_WS}{_NODE})?{_WS}\\.{_WS})?"
            r"(?:#[^\n]*)?\r?\n$")


def parse_lines(data: bytes, fmt) -> tuple[bytes, list[tuple[int, str]]]:
    """Canonical N-Quads of the N-Triples / N-Quads lines in ``data`` that parse, and (0-based line
    index, message) of each line that does not: a statement is good exactly when its line parses on
    its own, so an unterminated string or a missing final '.' costs only its own line.

    A clean block parses in one pyoxigraph call.  Otherwise an Arrow regular expression finds the
    lines that are not shaped like a statement (unterminated strings and IRIs, missing dots, bad
    escapes), which are parsed one by one, and the rest is parsed again; an error the pattern cannot
    see (an IRI or language tag pyoxigraph rejects) is found by cutting that piece around the line
    the parser blames and halving the remainder, until each bad line stands alone.
    """
    try:
        return _nquads(data, fmt), []
    except SyntaxError:
        pass
    if not data.endswith(b"\n"):
        data += b"\n"
    lines = _byte_lines(data)
    odd = ~pc.match_substring_regex(lines, _LINE_RE).to_numpy(zero_copy_only=False)
    out, bad = [], []
    for i in np.flatnonzero(odd).tolist():  # only the lines that look broken
        try:
            out.append(_nquads(lines[i].as_py(), fmt))
        except SyntaxError as exc:
            bad.append((i, _reason(exc)))
    rest = np.flatnonzero(~odd)
    if len(rest):
        text, errors = _isolate(_joined(lines.filter(pa.array(~odd))), fmt)
        out.append(text)
        bad += [(int(rest[j]), message) for j, message in errors]
    return b"".join(out), sorted(bad)


def _isolate(data: bytes, fmt) -> tuple[bytes, list[tuple[int, str]]]:
    """parse_lines without the pattern: pieces cut around the blamed line, the rest halved."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1
    offsets = np.r_[0, ends] if len(ends) and ends[-1] == len(data) else np.r_[0, ends, len(data)]
    good, bad, todo = [], [], [(0, len(offsets) - 1)]
    while todo:
        lo, hi = todo.pop()
        try:
            good.append(_nquads(data[offsets[lo]:offsets[hi]], fmt))
        except SyntaxError as exc:
            if hi - lo == 1:
                bad.append((lo, _reason(exc)))
                continue
            k = min(max(lo + (exc.lineno or 1) - 1, lo), hi - 1)
            mid = (k + 1 + hi) // 2
            pieces = [(lo, k), (k, k + 1), (k + 1, mid), (mid, hi)]
            todo.extend(piece for piece in reversed(pieces) if piece[0] < piece[1])
    return b"".join(good), bad


def _byte_lines(data: bytes) -> pa.LargeBinaryArray:
    """The newline-terminated lines of ``data`` (each keeps its newline), without copying."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    offsets = np.r_[0, ends + 1].astype(np.int64)
    return pa.Array.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _joined(arr) -> bytes:
    """The values of a null-free (large) string or binary array back to back."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if len(arr) == 0:
        return b""
    width = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], width)[arr.offset:arr.offset + len(arr) + 1]
    return memoryview(arr.buffers()[2])[offsets[0]:offsets[-1]].tobytes()


def _quad_lines(s, p, o, g) -> bytes:
    """N-Quads text, one line per row, of term columns (g null = default graph)."""
    sep, end = pa.scalar(" ", _LS), pa.scalar(" .\n", _LS)
    line = pc.binary_join_element_wise(s, p, o, sep)
    line = pc.if_else(pc.is_null(g), line, pc.binary_join_element_wise(line, g, sep))
    return _joined(pc.binary_join_element_wise(line, end, pa.scalar("", _LS)))


def _relabel(cols, token: str):
    """Blank node labels of one input made unique to it (``_:x`` -> ``_:b<token>x``)."""
    s, p, o, g = cols
    tag = f"_:b{token}"
    s, o, g = (pc.replace_substring_regex(c, "^_:", tag, max_replacements=1) for c in (s, o, g))
    return s, p, o, g


# -- a load run ---------------------------------------------------------------------------
class _Run:
    def __init__(self, tmp: Path, old: layout.Version | None, graph_nt, on_error, batch_size):
        self.tmp, self.old, self.graph_nt, self.on_error, self.batch_size = tmp, old, graph_nt, on_error, batch_size
        self.scratch = tmp / "_batches"
        self.scratch.mkdir()
        self.batches: list[Path] = []
        self.counts: dict[int, int] = {}
        self.graphs: set[int] = set(old.stats["graphs"]) if old else set()
        self.read_quads = 0
        self.skips: list[str] = []
        self.skipped = 0
        self.invalid: list[str] = []
        self.n_invalid = 0
        self.dictionary = _Dictionary(old.terms if old else None)

    # phase 1: parse, encode, spill
    def read(self, inputs, progress) -> None:
        from tqdm import tqdm

        enabled = sys.stderr.isatty() if progress is None else bool(progress)
        total = sum(p.stat().st_size for p, _, _ in inputs)
        with tqdm(total=total, unit="B", unit_scale=True, desc="loading", disable=not enabled,
                  file=sys.stderr, leave=False) as bar:
            for item in _prefetch(self._sources(inputs, bar)):  # parsing overlaps the Arrow work
                s, p, o, g = split_nquads(*item) if len(item) == 2 else item
                if self.graph_nt is not None:
                    g = pc.if_else(pc.is_null(g), pa.scalar(self.graph_nt, _LS), g)
                self._spill(s, p, o, g)

    def _sources(self, inputs, bar):
        """(N-Quads bytes, has graphs) per batch of an RDF file, (s, p, o, g) per batch of a Parquet file."""
        for path, fmt, gz in inputs:
            yield from self._parquet(path, bar) if fmt == "parquet" else self._rdf(path, fmt, gz, bar)

    def _rdf(self, path: Path, fmt, gz: bool, bar):
        if fmt in LINE_FORMATS:
            yield from self._lines(path, fmt, gz, bar)
            return
        quads = fmt == F.TRIG
        with open(path, "rb") as raw:
            stream = _Counted(raw, bar)
            reader = gzip.GzipFile(fileobj=stream) if gz else io.BufferedReader(stream, 1 << 20)
            parser = ox.parse(reader, format=fmt, base_iri=path.resolve().as_uri(), rename_blank_nodes=True)
            while True:
                out, err = io.BytesIO(), None
                try:
                    ox.serialize(itertools.islice(parser, self.batch_size), out, format=F.N_QUADS)
                except SyntaxError as exc:
                    err = exc
                except (OSError, EOFError, ValueError) as exc:  # unreadable gzip, I/O errors
                    raise _unreadable(path, exc) from None
                data = out.getbuffer()
                if len(data):
                    cut = bytes(data[-4096:]).rfind(b"\n") + max(len(data) - 4096, 0) + 1  # whole lines only
                    yield data[:cut], quads
                if err is None:
                    if not data:
                        return
                    continue
                self._syntax(path, err)
                return

    def _lines(self, path: Path, fmt, gz: bool, bar):
        """N-Triples / N-Quads, a block of whole lines at a time: each bad line is found on its own
        (see :func:`parse_lines`), named by its number and skipped or reported; the others load."""
        token = uuid.uuid4().hex[:16]  # blank nodes of different files stay different
        block = max(4096, min(self.batch_size * 128, 64 << 20))
        with open(path, "rb") as raw:
            stream = _Counted(raw, bar)
            reader = gzip.GzipFile(fileobj=stream) if gz else io.BufferedReader(stream, 1 << 20)
            for data, first in _line_blocks(reader, block, path):
                text, bad = parse_lines(data, fmt)
                for index, message in bad:
                    self._bad(f"{path}:{first + index}", message, "fix that line")
                if text:
                    yield _relabel(split_nquads(text, fmt == F.N_QUADS), token)

    def _bad(self, where: str, message: str, fix: str) -> None:
        """A malformed statement: raise (on_error="fail") or count and report it."""
        if self.on_error == "fail":
            raise EolinkedError(message, where=where,
                                hint=f"{fix}, or load with --on-error skip (on_error='skip') to drop bad lines "
                                     "and list them in a report")
        self.skipped += 1
        _Run._note(self.skips, f"{where}: {message}")

    def _syntax(self, path: Path, exc: SyntaxError) -> None:
        """A syntax error in Turtle, TriG or RDF/XML: the parser cannot resume, so the rest of the file goes."""
        message = str(exc.args[0]) if exc.args else str(exc)
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        if self.on_error == "fail":
            raise EolinkedError(message, where=where,
                                hint="fix the file there, or load with --on-error skip (on_error='skip') to drop "
                                     "the rest of the file and list it in a report")
        self.skipped += 1
        _Run._note(self.skips, f"{where}: {message} (the rest of this file was skipped)")

    def _parquet(self, path: Path, bar):
        """Parquet triples: each batch's rows are checked to hold one N-Triples term per column, then
        written as N-Quads lines and parsed like an N-Quads file, so the terms come out canonical."""
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise EolinkedError(f"cannot read the Parquet file: {exc}", where=str(path)) from None
        names = pf.schema_arrow.names
        missing = [c for c in ("s", "p", "o") if c not in names]
        if missing:
            raise EolinkedError(f"Parquet triples need columns s, p, o (and g); missing {', '.join(missing)}",
                                where=str(path), hint="write them with the Spark transformer's --format parquet")
        cols = [c for c in ("s", "p", "o", "g") if c in names]
        token = uuid.uuid4().hex[:16]
        step = path.stat().st_size / max(pf.metadata.num_rows, 1)
        row0 = 0
        for rb in pf.iter_batches(self.batch_size, columns=cols):
            try:
                arrays = {c: rb.column(c).cast(_LS) for c in cols}
            except pa.ArrowException as exc:
                raise EolinkedError(f"Parquet triples need string columns: {exc}", where=str(path),
                                    hint="columns s, p, o, g hold N-Triples terms as text") from None
            g = arrays.get("g", pa.nulls(rb.num_rows, _LS))
            arrays["g"] = pc.if_else(pc.equal(g, ""), pa.scalar(None, _LS), g)
            checks = {c: ~_matches(arrays[c], _PARQUET_CHECKS[c], c == "g") for c in ("s", "p", "o", "g")}
            bad = checks["s"] | checks["p"] | checks["o"] | checks["g"]
            problems = []  # (row index in the batch, message), reported in row order
            for i in np.flatnonzero(bad)[:MAX_REPORTED if self.on_error == "skip" else 1].tolist():
                c = next(c for c in ("s", "p", "o", "g") if checks[c][i])
                shown = str(arrays[c][i].as_py())[:200]
                problems.append((i, f"column {c} does not hold one N-Triples term: {shown!r}"))
            unlisted = int(bad.sum()) - len(problems)  # bad rows past the report's limit: counted only
            rows = np.flatnonzero(~bad)
            if self.on_error == "fail" and problems:  # only the rows before the first bad one matter
                rows = rows[rows < problems[0][0]]
            if len(rows) < rb.num_rows:
                keep = pa.array(rows)
                arrays = {c: a.take(keep) for c, a in arrays.items()}
            text = b""
            if len(rows):
                text, errors = parse_lines(_quad_lines(arrays["s"], arrays["p"], arrays["o"], arrays["g"]),
                                           F.N_QUADS)
                problems += [(int(rows[index]), message) for index, message in errors]
            problems.sort()
            self.skipped += unlisted
            for i, message in problems:
                self._bad(f"{path}: row {row0 + i + 1}", message,
                          "write N-Triples terms in columns s, p, o, g (g null for the default graph)")
            if text:
                yield _relabel(split_nquads(text, True), token)
            row0 += rb.num_rows
            bar.update(int(step * rb.num_rows))

    @staticmethod
    def _note(lines: list, text: str) -> None:
        if len(lines) < MAX_REPORTED:
            lines.append(text)

    def _spill(self, s, p, o, g) -> None:
        n = len(s)
        if n == 0:
            return
        ids = self.dictionary.encode([s, p, o, g])
        order = np.argsort(ids[1], kind="stable")
        cols = [a[order] for a in ids]
        gcol = pa.array(cols[3], mask=cols[3] < 0)
        table = pa.table([pa.array(cols[0]), pa.array(cols[1]), pa.array(cols[2]), gcol], schema=QUAD_SCHEMA)
        path = self.scratch / f"b{len(self.batches):05d}.parquet"
        pq.write_table(table, path, row_group_size=_ROW_GROUP, compression="lz4")
        self.batches.append(path)
        pid, counts = np.unique(cols[1], return_counts=True)
        for k, c in zip(pid.tolist(), counts.tolist()):
            self.counts[k] = self.counts.get(k, 0) + c
        self.graphs |= set(np.unique(cols[3][cols[3] >= 0]).tolist())
        self.read_quads += n

    # phase 2: terms, geometries, tables, stats
    def finish(self) -> dict:
        num = self._write_terms()
        tables = _Tables(self, num)
        total, stats = tables.write()
        shutil.rmtree(self.scratch)
        old_total = self.old.stats["triples"] if self.old else 0
        added = total - old_total
        layout.write_stats(self.tmp, {"triples": total, "terms": self.dictionary.size,
                                      "graphs": sorted(self.graphs), "predicates": stats,
                                      "geometries": self.n_geometries})
        has_report = bool(self.skips or self.invalid)
        if has_report:
            self._write_report()
        return {"triples": added, "duplicates": self.read_quads - added, "skipped": self.skipped,
                "invalid": self.n_invalid, "report": has_report, "total": total}

    def _write_report(self) -> None:
        head = (f"# load report: {self.skipped} skipped input line(s)/row(s), "
                f"{self.n_invalid} invalid geometry literal(s)")
        lines = [head]
        if self.skips:
            lines += ["", "## skipped input (file:line: message)", *self.skips]
        if self.invalid:
            lines += ["", "## invalid geometry literals (kept as plain literals, no geometry)", *self.invalid]
        (self.tmp / "load-report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _write_terms(self) -> np.ndarray:
        """terms.parquet and geometries.parquet; returns the numeric value of every term id (NaN if none)."""
        d, old = self.dictionary, self.old
        self.n_geometries = old.stats.get("geometries", 0) if old else 0
        if old is not None and d.size == d.first_new:
            _link(old.terms, self.tmp / "terms.parquet")
            _link(old.geometries, self.tmp / "geometries.parquet")
            return _old_num(old.terms, d.size)
        num = np.full(d.size, np.nan)
        with pq.ParquetWriter(self.tmp / "terms.parquet", TERMS_SCHEMA) as tw, \
                pq.ParquetWriter(self.tmp / "geometries.parquet", GEOM_SCHEMA) as gw:
            if old is not None:
                num[:d.first_new] = _old_num(old.terms, d.first_new)
                for batch in pq.ParquetFile(old.terms).iter_batches(_ROW_GROUP):
                    tw.write_batch(batch)
                for batch in pq.ParquetFile(old.geometries).iter_batches(_ROW_GROUP):
                    gw.write_batch(batch)
            with ThreadPoolExecutor(2) as pool:  # Arrow, GEOS and Parquet release the GIL
                done = pool.map(_term_chunk, d.new_chunks(_ROW_GROUP))
                for first, terms, values, geoms, problems in done:
                    num[first:first + len(values)] = values
                    tw.write_table(terms)
                    self.n_geometries += geoms.num_rows
                    self.n_invalid += len(problems)
                    for text in problems:
                        _Run._note(self.invalid, text)
                    if geoms.num_rows:
                        gw.write_table(geoms)
        return num


def _term_chunk(item):
    first, nt = item
    terms, values = term_table(first, nt)
    return (first, terms, values, *geometry_table(terms))


def _matches(arr: pa.Array, pattern: str, nullable: bool) -> np.ndarray:
    ok = pc.match_substring_regex(arr, pattern)
    ok = pc.or_kleene(ok, pc.is_null(arr)) if nullable else pc.fill_null(ok, False)
    return ok.to_numpy(zero_copy_only=False)


def _old_num(terms_path: Path, n: int) -> np.ndarray:
    col = pq.read_table(terms_path, columns=["num"]).column("num")
    return pc.fill_null(col, np.nan).to_numpy()[:n] if n else np.zeros(0)


def _link(src: Path, dst: Path) -> None:
    """Hard-link an unchanged file into the new version (copy where links are not possible)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for f in files:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        layout.fsync_dir(dirpath)


# -- the term dictionary ------------------------------------------------------------------
class _Dictionary:
    """N-Triples text of every term in id order (ids are dense); new terms are appended per batch."""

    def __init__(self, old_terms: Path | None):
        self.chunks: list[pa.Array] = []
        if old_terms is not None:
            col = pq.read_table(old_terms, columns=["nt"]).column("nt").cast(_LS)
            self.chunks = [c for c in col.chunks if len(c)]
        self.size = sum(len(c) for c in self.chunks)
        self.first_new = self.size
        self._new_from = len(self.chunks)

    def encode(self, cols: list[pa.Array]) -> list[np.ndarray]:
        """int64 ids of the terms in ``cols`` (-1 for nulls), adding unseen terms."""
        both = pa.chunked_array([c.cast(_LS) for c in cols], _LS)
        enc = pc.dictionary_encode(both)  # one hash pass; the chunks share a growing dictionary
        unique = enc.chunks[-1].dictionary
        ids = np.full(len(unique), -1, np.int64)
        if self.size:
            known = pa.chunked_array(self.chunks, _LS)
            hit = pc.is_in(known, value_set=unique)    # hashes the batch once, probes the dictionary
            where = np.flatnonzero(np.concatenate([c.to_numpy(zero_copy_only=False) for c in hit.chunks]))
            if len(where):
                pos = pc.index_in(known.take(pa.array(where)), value_set=unique).to_numpy()
                ids[pos] = where
        new = ids < 0
        if new.any():
            fresh = unique.filter(pa.array(new))
            ids[new] = np.arange(self.size, self.size + len(fresh))
            self.chunks.append(fresh)
            self.size += len(fresh)
        pos = np.concatenate([pc.fill_null(c.indices, -1).to_numpy() for c in enc.chunks])
        out = np.where(pos >= 0, ids[np.maximum(pos, 0)], -1)
        bounds = np.cumsum([0] + [len(c) for c in cols])
        return [out[a:b] for a, b in itertools.pairwise(bounds)]

    def new_chunks(self, size: int):
        """(first id, N-Triples strings) of the terms added by this load, ``size`` at a time."""
        first = self.first_new
        for chunk in self.chunks[self._new_from:]:
            for i in range(0, len(chunk), size):
                part = chunk.slice(i, size)
                yield first, part
                first += len(part)


# -- typed term columns and geometries -------------------------------------------------------
def term_table(first_id: int, nt: pa.Array) -> tuple[pa.Table, np.ndarray]:
    """terms.parquet rows for ``nt`` (ids from ``first_id``) and their numeric values (NaN if none)."""
    t = from_nt(nt)
    n = len(nt)
    dt = t.datatype
    lex = pc.utf8_trim_whitespace(t.value)
    null_s = pa.scalar(None, pa.string())
    local = pc.if_else(pc.starts_with(dt, XSD), pc.utf8_slice_codeunits(dt, len(XSD)), null_s)
    is_int = pc.fill_null(pc.is_in(local, value_set=pa.array(list(_INTEGERS))), False)
    is_dec = pc.fill_null(pc.equal(local, "decimal"), False)
    is_flt = pc.fill_null(pc.is_in(local, value_set=pa.array(["double", "float"])), False)
    valid = pc.or_(pc.or_(pc.and_(is_int, pc.match_substring_regex(lex, _INT_RE)),
                          pc.and_(is_dec, pc.match_substring_regex(lex, _DEC_RE))),
                   pc.and_(is_flt, pc.match_substring_regex(lex, _FLOAT_RE)))
    valid = pc.fill_null(valid, False)
    num = pc.cast(pc.if_else(valid, lex, null_s), pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    ok = valid.to_numpy(zero_copy_only=False)
    local_np = local.to_numpy(zero_copy_only=False)
    for name, (lo, hi) in _INTEGERS.items():  # one pass per derived integer type, not per value
        sel = local_np == name
        if (lo is not None or hi is not None) and sel.any():
            v = num[sel]
            ok[sel] &= ~((v < (lo if lo is not None else -np.inf)) | (v > (hi if hi is not None else np.inf)))
    is_bool = pc.fill_null(pc.equal(local, "boolean"), False)
    true = pc.and_(is_bool, pc.is_in(lex, value_set=pa.array(["true", "1"])))
    false = pc.and_(is_bool, pc.is_in(lex, value_set=pa.array(["false", "0"])))
    boolean = pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))
    is_date = pc.fill_null(pc.is_in(local, value_set=pa.array(["dateTime", "date", "dateTimeStamp"])), False)
    ts = _timestamps(pc.if_else(is_date, lex, null_s))
    num_col = pa.array(num, mask=~ok)
    table = pa.table([pa.array(np.arange(first_id, first_id + n, dtype=np.int64)), nt.cast(pa.string()),
                      t.kind, t.value.cast(pa.string()), dt.cast(pa.string()), t.lang.cast(pa.string()),
                      num_col, boolean, ts], schema=TERMS_SCHEMA)
    return table, np.where(ok, num, np.nan)


def _timestamps(lex: pa.Array) -> pa.Array:
    """xsd:dateTime / xsd:date lexical forms -> UTC timestamps (no time zone is read as UTC)."""
    parts = pc.extract_regex(lex, _DATE_RE)
    field = lambda k: pc.struct_field(parts, k)
    empty_null = lambda a: pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)
    base = pc.binary_join_element_wise(field("d"), pc.fill_null(empty_null(field("t")), "00:00:00"), "T")
    naive = pc.strptime(base, format="%Y-%m-%dT%H:%M:%S", unit="us", error_is_null=True)
    us = naive.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.fill_null(field("f"), ""), 1, 7), 6, "0")
    us += pc.cast(frac, pa.int64()).to_numpy(zero_copy_only=False)
    hh, mm = (pc.cast(pc.fill_null(empty_null(field(k)), "0"), pa.int64()).to_numpy(zero_copy_only=False)
              for k in ("hh", "mm"))
    sign = np.where(pc.fill_null(pc.equal(field("sign"), "-"), False).to_numpy(zero_copy_only=False), -1, 1)
    us -= sign * (hh * 60 + mm) * 60_000_000
    bad = np.isnan(us)
    return pa.array(np.where(bad, 0, us).astype(np.int64), mask=bad).cast(pa.timestamp("us", tz="UTC"))


def geometry_table(terms: pa.Table) -> tuple[pa.Table, list[str]]:
    """geometries.parquet rows for the geometry literals among ``terms``, and the invalid ones' report lines."""
    pieces, problems = [], []
    dt = terms.column("datatype")
    for dtype in GEO_TYPES:
        mask = pc.fill_null(pc.equal(dt, dtype), False)
        if not pc.any(mask).as_py():
            continue
        sub = terms.filter(mask)
        lex = sub.column("value").combine_chunks()
        geoms, iris = literal_geometries(lex, dtype, on_invalid="null")
        iris = np.array(iris, dtype=object)
        ok = ~shapely.is_missing(geoms)
        g84 = np.empty(len(geoms), object)
        for iri in set(iris[ok].tolist()):
            sel = np.flatnonzero(ok & (iris == iri))
            g84[sel], failed = _to_crs84(geoms[sel], iri)
            ok[sel[failed]] = False
        bad = np.flatnonzero(~ok)
        for k, i in enumerate(bad.tolist()):
            why = _why_invalid(lex[i].as_py(), dtype, iris[i], k)
            problems.append(f"{sub.column('nt')[i].as_py()[:300]}: {why}")
        keep = np.flatnonzero(ok)
        if not len(keep):
            continue
        bounds = shapely.bounds(g84[keep])
        pieces.append(pa.table([sub.column("id").take(pa.array(keep)), pa.array(iris[keep].tolist(), pa.string()),
                                pa.array(shapely.to_wkb(geoms[keep]), pa.binary()),
                                pa.array(shapely.to_wkb(g84[keep]), pa.binary()),
                                # an empty geometry has no box: null, not NaN (SedonaDB 0.5 read a NaN as the
                                # row group's min when min = max in the Parquet statistics)
                                *(pa.array(bounds[:, k], from_pandas=True) for k in range(4))],
                               schema=GEOM_SCHEMA))
    table = pa.concat_tables(pieces) if pieces else GEOM_SCHEMA.empty_table()
    return table, problems


def _to_crs84(geoms: np.ndarray, iri: str) -> tuple[np.ndarray, np.ndarray]:
    """(CRS84 geometries, indices that cannot be reprojected)."""
    if iri == crslib.CRS84_IRI:
        return geoms, np.zeros(0, np.int64)
    try:
        return crslib.reproject(geoms, iri, crslib.CRS84_IRI), np.zeros(0, np.int64)
    except EolinkedError:
        out, failed = np.empty(len(geoms), object), []
        for i, g in enumerate(geoms):  # documented fallback: find the geometries that fail, one by one
            try:
                out[i] = crslib.reproject(np.array([g], object), iri, crslib.CRS84_IRI)[0]
            except EolinkedError:
                failed.append(i)
        return out, np.array(failed, np.int64)


def _why_invalid(text: str, dtype: str, iri, k: int) -> str:
    if iri is not None:
        return f"cannot be reprojected from <{iri}> to CRS84"
    if k >= 100:  # reasons for the first 100 per chunk; the rest are only listed
        return "invalid geometry literal"
    try:
        literal_geometries(pa.array([text], pa.string()), dtype, on_invalid="raise")
    except EolinkedError as exc:
        return exc.message
    return "invalid geometry literal"


# -- final tables -------------------------------------------------------------------------
class _Tables:
    """De-duplicates the spilled quads (plus the old version's when appending) per predicate."""

    def __init__(self, run: _Run, num: np.ndarray):
        self.run, self.num, self.old = run, num, run.old
        self.quads = run.tmp / "quads"
        self.quads.mkdir()
        self.dataset = pads.dataset([str(p) for p in run.batches], format="parquet") if run.batches else None
        new_rows = sum(run.counts.values())
        self.memory = None
        if self.dataset is not None and new_rows <= 4 * run.batch_size:  # small load: one in-memory pass
            t = self.dataset.to_table()
            order = np.argsort(t.column("p").to_numpy(), kind="stable")
            self.memory = t.take(pa.array(order))
            self._mp = self.memory.column("p").to_numpy()

    def _new(self, pids: list[int]) -> pa.Table:
        if self.dataset is None or not pids:
            return QUAD_SCHEMA.empty_table()
        if self.memory is not None:
            if len(pids) == 1:
                a, b = np.searchsorted(self._mp, [pids[0], pids[0] + 1])
                return self.memory.slice(a, b - a)
            return self.memory.filter(pa.array(np.isin(self._mp, pids)))
        expr = pc.field("p") == pids[0] if len(pids) == 1 else pc.field("p").isin(pids)
        return self.dataset.to_table(filter=expr)

    def _old_rows(self, pids: list[int], own: dict[int, Path]) -> list[pa.Table]:
        out = []
        for pid in pids:
            if pid in own:
                t = pq.read_table(own[pid])
                out.append(t.append_column("p", pa.array(np.full(t.num_rows, pid, np.int64)))
                           .select(["s", "p", "o", "g"]))
        rest_pids = [p for p in pids if p not in own]
        if rest_pids and self.old is not None:
            out.append(pq.read_table(self.old.rest, filters=[("p", "in", rest_pids)]))
        return out

    def write(self) -> tuple[int, dict]:
        run, old = self.run, self.old
        old_stats = old.stats["predicates"] if old else {}
        old_counts = {int(k): v["count"] for k, v in old_stats.items()}
        own_old = old.tables if old else {}
        stats, total, rest_pieces, rest_pids = {}, 0, [], []
        for pid in sorted(set(run.counts) | set(old_counts)):
            new_n, old_n = run.counts.get(pid, 0), old_counts.get(pid, 0)
            if new_n + old_n < layout.MIN_TABLE:
                rest_pids.append(pid)
                continue
            if new_n == 0 and pid in own_old:
                _link(own_old[pid], self.quads / f"p{pid}.parquet")
                stats[str(pid)], total = old_stats[str(pid)], total + old_n
                continue
            t = _unique(pa.concat_tables([self._new([pid]), *self._old_rows([pid] if old_n else [], own_old)]))
            if t.num_rows < layout.MIN_TABLE:
                rest_pieces.append(t)
                continue
            name = f"quads/p{pid}.parquet"
            pq.write_table(t.select(["s", "o", "g"]), self.run.tmp / name, row_group_size=_ROW_GROUP)
            stats.update(self._stats(t, lambda _p, n=name: n))
            total += t.num_rows
        unchanged = (old is not None and not rest_pieces and all(run.counts.get(p, 0) == 0 for p in rest_pids)
                     and {p for p in rest_pids if p in old_counts} == {int(k) for k, v in old_stats.items()
                                                                       if v["table"] == "quads/rest.parquet"})
        if unchanged:
            _link(old.rest, self.quads / "rest.parquet")
            for p in rest_pids:
                stats[str(p)] = old_stats[str(p)]
                total += old_counts[p]
        else:
            old_rest = [p for p in rest_pids if p in old_counts]
            t = _unique(pa.concat_tables([self._new(rest_pids), *self._old_rows(old_rest, {}), *rest_pieces]))
            pq.write_table(t, self.quads / "rest.parquet", row_group_size=_ROW_GROUP)
            stats.update(self._stats(t, lambda _p: "quads/rest.parquet"))
            total += t.num_rows
        return total, dict(sorted(stats.items(), key=lambda kv: int(kv[0])))

    def _stats(self, t: pa.Table, table_of) -> dict:
        cols = [t.column(k).to_numpy() for k in ("p", "s", "o")]
        return layout.predicate_stats(*cols, self.num, table_of)


def _unique(t: pa.Table) -> pa.Table:
    """Distinct quads sorted by predicate, subject, object, graph (columns s, p, o, g)."""
    t = t.select(["s", "p", "o", "g"]).combine_chunks()
    if t.num_rows == 0:
        return t.cast(QUAD_SCHEMA)
    s, p, o = (t.column(k).to_numpy() for k in ("s", "p", "o"))
    g = pc.fill_null(t.column("g"), -1).to_numpy()
    order = np.lexsort((g, o, s, p))
    s, p, o, g = s[order], p[order], o[order], g[order]
    keep = np.r_[True, (np.diff(s) != 0) | (np.diff(p) != 0) | (np.diff(o) != 0) | (np.diff(g) != 0)]
    s, p, o, g = s[keep], p[keep], o[keep], g[keep]
    return pa.table([pa.array(s), pa.array(p), pa.array(o), pa.array(g, mask=g < 0)], schema=QUAD_SCHEMA)

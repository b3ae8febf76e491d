"""JSON sources with JSONPath iterators and references (JSON documents and JSON Lines).

JSON is a tree, so records are walked in Python; each reference becomes a list column
(a reference may select several values) with a parallel column of natural XSD datatypes.
"""
from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from jsonpath_ng import Fields
from jsonpath_ng import parse as jsonpath_parse
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError

from eolinked.errors import EolinkedError
from eolinked.vocab import XSD

from .base import Batch, Source

_TYPES = {bool: XSD + "boolean", int: XSD + "integer", float: XSD + "double"}


@lru_cache(maxsize=1024)
def compile_path(expr: str):
    """Compile a JSONPath (a bare key such as ``Name`` or ``Country Code`` works too)."""
    try:
        return jsonpath_parse(expr)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        if not expr.startswith("$"):
            return Fields(expr)
        raise EolinkedError(f"invalid JSONPath {expr!r}: {exc}",
                            hint="write paths such as $.name or $.items[*].id") from None


def _lexical(value):
    if isinstance(value, bool):
        return ("true" if value else "false"), _TYPES[bool]
    if isinstance(value, int):
        return str(value), _TYPES[int]
    if isinstance(value, float):
        return repr(value).replace("e", "E").replace("inf", "INF").replace("nan", "NaN"), _TYPES[float]
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":")), None
    return str(value), None


_SIMPLE = re.compile(r"^(?:\$\.)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")
_ARROW_TYPES = ((pa.types.is_boolean, XSD + "boolean"), (pa.types.is_integer, XSD + "integer"),
                (pa.types.is_string, None), (pa.types.is_large_string, None))


def _arrow_columns(rows, paths, matched) -> tuple[dict, dict]:
    """Columns for simple key paths (``$.a.b``), read through Arrow's struct conversion at once.

    Only booleans, integers and strings take this way (a column mixing integers and decimals
    becomes double in Arrow, which would lose the integers' natural datatype); anything else
    is left to the JSONPath walk.
    """
    simple = {ref: m.group(1).split(".") for ref in paths if (m := _SIMPLE.match(ref))}
    if not simple:
        return {}, {}
    try:
        records = pa.array(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return {}, {}
    columns, types = {}, {}
    for ref, keys in simple.items():
        col = records
        for key in keys:
            if not pa.types.is_struct(col.type) or col.type.get_field_index(key) < 0:
                col = None
                break
            col = pc.struct_field(col, key)
        natural = next((dt for test, dt in _ARROW_TYPES if col is not None and test(col.type)), False)
        if natural is False:
            continue
        matched[ref] = True
        columns[ref] = col.cast(pa.string())
        types[ref] = natural
    return columns, types


class JsonSource(Source):
    def __init__(self, path: str, iterator: str | None, encoding: str | None = None):
        self.path = path
        self.iterator = iterator or "$"
        self.encoding = encoding or "utf-8"
        self._lines = path.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson", ".geojsonl", ".geojsons"))
        self._seen_keys: set[str] = set()

    def _open(self):
        opener = gzip.open if self.path.endswith(".gz") else open
        try:
            return opener(self.path, "rt", encoding=self.encoding)
        except FileNotFoundError:
            raise EolinkedError("source file not found", where=self.path,
                                hint="check rml:path, or override it with -s NAME=PATH") from None

    def _records(self):
        with self._open() as fh:
            if self._lines:
                yield from self.line_records(fh, 1)
            else:
                yield from (m.value for m in compile_path(self.iterator).find(self._load(fh.read(), None)))

    def line_records(self, lines, first_line: int):
        """Records of JSON Lines (numbered from ``first_line``); blank lines are skipped."""
        it = compile_path(self.iterator)
        for number, line in enumerate(lines, first_line):
            line = line.strip().lstrip("\x1e")  # GeoJSON text sequences (RFC 8142) start records with RS
            if line:
                yield from (m.value for m in it.find(self._load(line, number)))

    def _load(self, text, line):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"{self.path}:{line or exc.lineno}"
            raise EolinkedError(f"invalid JSON: {exc.msg} (column {exc.colno})", where=where,
                                hint="fix the JSON syntax there") from None
        except UnicodeDecodeError as exc:
            raise EolinkedError(f"cannot decode as {self.encoding}: {exc.reason}", where=self.path,
                                hint="save the file as UTF-8") from None

    def columns(self) -> list[str]:
        return sorted(self._seen_keys)

    def check(self, refs, triples_map):
        for r in refs:
            compile_path(r)

    def batches(self, refs, batch_size):
        matched = dict.fromkeys(set(refs), False)
        yield from self.record_batches(self._records(), refs, batch_size, 0, matched)
        self.check_matched(matched)

    def record_batches(self, records, refs, batch_size, offset, matched: dict):
        """Batches of ``records`` (``offset`` before them); ``matched`` notes the references that found a value."""
        paths = {r: compile_path(r) for r in set(refs)}
        matched.setdefault("", False)  # "" notes that there was a record at all
        rows = []
        for record in records:
            matched[""] = True
            if isinstance(record, dict):
                self._seen_keys.update(record)
            rows.append(record)
            if len(rows) >= batch_size:
                yield self._batch(rows, paths, matched, offset)
                offset += len(rows)
                rows = []
        if rows:
            yield self._batch(rows, paths, matched, offset)

    def check_matched(self, matched: dict) -> None:
        """Raise when a reference matched nothing in any record (when there were records)."""
        unmatched = sorted(r for r, ok in matched.items() if r and not ok)
        if matched.get("") and unmatched:
            raise EolinkedError(f"reference(s) {', '.join(map(repr, unmatched))} match nothing in any record",
                                where=self.path,
                                hint="keys seen in the records: " + ", ".join(sorted(self._seen_keys)[:40]))

    def _batch(self, rows, paths, matched, offset) -> Batch:
        columns, types = _arrow_columns(rows, paths, matched)
        for ref, path in paths.items():
            if ref in columns:
                continue
            values, dtypes = [], []
            for record in rows:
                vals, dts = [], []
                found = path.find(record)
                if found:
                    matched[ref] = True
                for m in found:
                    v = m.value
                    if isinstance(v, list):
                        raise EolinkedError(f"reference {ref!r} selects an array, not a value",
                                            where=f"{self.path} record {offset + len(values) + 1}",
                                            hint=f"select its items with {ref}[*]")
                    if v is None:
                        continue
                    lex, dt = _lexical(v)
                    vals.append(lex)
                    dts.append(dt)
                values.append(vals)
                dtypes.append(dts)
            columns[ref] = pa.array(values, pa.list_(pa.string()))
            types[ref] = pa.array(dtypes, pa.list_(pa.string()))
        return Batch(pa.table(columns) if columns else pa.table({"__n": pa.nulls(len(rows))}), offset, types)

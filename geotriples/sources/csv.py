"""CSV / TSV sources (optionally gzip) read as strings in Arrow batches."""
from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.csv as pcsv

from eolinked.errors import EolinkedError

from .base import Batch, Source


class CsvSource(Source):
    def __init__(self, path: str, delimiter: str | None = None, encoding: str | None = None,
                 null: str | None = None):
        self.path = path
        self.delimiter = delimiter or ("\t" if path.lower().removesuffix(".gz").endswith(".tsv") else ",")
        self.encoding = encoding or "utf8"
        self.null = [""] if null is None else [null]
        self._names = None

    def _read_options(self, block_size=None):
        kw = {"encoding": self.encoding}
        if block_size:
            kw["block_size"] = block_size
        return pcsv.ReadOptions(**kw)

    def columns(self) -> list[str]:
        if self._names is None:
            try:
                with pcsv.open_csv(self.path, read_options=self._read_options(1 << 16),
                                   parse_options=pcsv.ParseOptions(delimiter=self.delimiter)) as reader:
                    self._names = reader.schema.names
            except pa.ArrowInvalid as exc:
                if "Empty CSV file" in str(exc):
                    self._names = []
                else:
                    raise self._decode_error(exc) from None
        return self._names

    def _convert(self, refs):
        cols = sorted(set(refs))
        return pcsv.ConvertOptions(column_types={c: pa.string() for c in cols}, include_columns=cols,
                                   null_values=self.null, strings_can_be_null=True,
                                   quoted_strings_can_be_null=False)

    def partitions(self, parts, batch_size):
        """Byte ranges starting at line starts (values hold no newlines, as the reader assumes),
        with the number of records before each; gzip files are read in one stream."""
        if self.path.endswith(".gz") or not self.columns():
            return None
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as fh:
            header = fh.readline()
            start = len(header)
            chunk = max(1 << 16, min(1 << 26, -(-(size - start) // max(parts, 1))))
            specs, records = [], 0
            while start < size:
                fh.seek(min(start + chunk, size))
                fh.readline()  # to the end of the line we landed in
                end = min(fh.tell(), size)
                fh.seek(start)
                lines = fh.read(end - start).count(b"\n")
                specs.append((start, end, records))
                records += lines
                start = end
        return specs

    def read_partition(self, spec, refs, batch_size):
        start, end, records = spec
        with open(self.path, "rb") as fh:
            header = fh.readline()
            fh.seek(start)
            data = header + fh.read(end - start)
        yield from self.parse(data, refs, records, batch_size)

    def parse(self, data: bytes, refs, records: int, batch_size: int):
        """Batches of a piece of the file: the header line, then whole records (``records`` before them)."""
        try:
            table = pcsv.read_csv(pa.BufferReader(data), read_options=self._read_options(),
                                  parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                                  convert_options=self._convert(refs))
        except pa.ArrowInvalid as exc:
            raise self._decode_error(exc, records) from None
        for i in range(0, max(table.num_rows, 1), batch_size):
            piece = table.slice(i, batch_size)
            if piece.num_rows:
                yield Batch(piece, records + i)

    def batches(self, refs, batch_size):
        convert = self._convert(refs)
        # rows are ~100 bytes: aim the block size at batch_size rows
        block = max(1 << 16, min(batch_size * 128, 1 << 26))
        offset = 0
        if not self.columns():
            return
        try:
            with pcsv.open_csv(self.path, read_options=self._read_options(block),
                               parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                               convert_options=convert) as reader:
                for rb in reader:
                    table = pa.Table.from_batches([rb])
                    yield Batch(table, offset)
                    offset += table.num_rows
        except pa.ArrowInvalid as exc:
            raise self._decode_error(exc, offset) from None

    def describe_record(self, record: int) -> str:
        """``record N (line L)``: the line is found by reading the file up to it (an error path only)."""
        wide = self.encoding.replace("-", "").lower().startswith(("utf16", "utf32"))
        line = None if wide else _line_of_record(self.path, record)
        return f"record {record}" + (f" (line {line})" if line else "")

    def _decode_error(self, exc, offset=0) -> EolinkedError:
        line = _first_undecodable_line(self.path, self.encoding)
        if line is not None:
            return EolinkedError(f"line {line} cannot be decoded as {self.encoding}", where=self.path,
                                 hint="give the file's encoding (csvw:encoding in the mapping, "
                                      "or re-save the file as UTF-8)")
        return EolinkedError(f"malformed CSV after record {offset}: {exc}", where=self.path,
                             hint="check quoting and the number of fields on that row")


def _first_undecodable_line(path: str, encoding: str) -> int | None:
    """Error path only: find the first line that does not decode."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    codec = "utf-8" if encoding.replace("-", "").lower() == "utf8" else encoding
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode(codec)
            except UnicodeDecodeError:
                return number
    return None


def _line_of_record(path: str, record: int) -> int | None:
    """The 1-based line of the 1-based ``record`` (after the header; empty lines are no records,
    as for the reader). Error path only: reads the file up to that line."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    seen = 0
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                if number == 1 or not raw.strip(b"\r\n"):
                    continue
                seen += 1
                if seen == record:
                    return number
    except OSError:
        return None
    return None

"""CSV / TSV sources (optionally gzip) read as strings in Arrow batches."""
from __future__ import annotations

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

    def batches(self, refs, batch_size):
        cols = sorted(set(refs))
        convert = pcsv.ConvertOptions(column_types={c: pa.string() for c in cols}, include_columns=cols,
                                      null_values=self.null, strings_can_be_null=True,
                                      quoted_strings_can_be_null=False)
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

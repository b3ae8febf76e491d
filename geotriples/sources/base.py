"""The reader interface every source kind implements."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from eolinked.errors import EolinkedError

ROW = "__row"  # virtual reference: 1-based record number (only where a mapping asks for row order)
ROW_REFS = frozenset({ROW, "GeoTriplesID"})  # GeoTriples' name for the same


@dataclass
class Batch:
    """Records of a source: one column per reference, in source order.

    A column may be a list array when a reference yields several values per record (JSON);
    ``types`` then maps the reference to a parallel list array of natural XSD datatypes, or,
    for a plain column, to one datatype IRI (None for strings).
    """

    table: pa.Table
    offset: int  # number of records before this batch
    types: dict[str, pa.Array] = field(default_factory=dict)


class Source(ABC):
    """A logical source opened for reading. Subclasses set ``path`` and ``crs``."""

    path: str
    crs = None  # pyproj.CRS of geometry columns, None when the source has none
    geometry_columns: frozenset[str] = frozenset()

    @abstractmethod
    def columns(self) -> list[str]:
        """References this source can answer."""

    @abstractmethod
    def batches(self, refs: list[str], batch_size: int) -> Iterator[Batch]:
        """Batches with one column per reference, in source order."""

    def partitions(self, parts: int, batch_size: int) -> list | None:
        """Independent pieces for parallel workers, or None to read the source in one stream.

        A source that returns pieces also has ``read_partition(spec, refs, batch_size)``.
        """
        return None

    def describe_record(self, record: int) -> str:
        """How error messages name the 1-based ``record`` of this source."""
        return f"record {record}"

    def resolve(self, ref: str) -> str:
        """Map a mapping's reference to a column name (overridden for aliases)."""
        return ref

    def check(self, refs, triples_map: str) -> None:
        """Raise a clear error for references that name no column."""
        available = self.columns()
        missing = [r for r in refs if r not in ROW_REFS and self.resolve(r) not in available]
        if missing:
            shown = ", ".join(available[:40]) + (" ..." if len(available) > 40 else "")
            raise EolinkedError(
                f"triples map {triples_map} references {', '.join(map(repr, missing))}, "
                f"which is not a column of the source", where=self.path,
                hint=f"available columns: {shown}")

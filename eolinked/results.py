"""SPARQL query results: one type for SELECT, ASK and graph (CONSTRUCT / DESCRIBE) results."""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Result:
    """``kind`` is "select", "ask" or "graph".  SELECT: ``variables`` in projection order and
    ``table`` with one string column per variable holding canonical N-Triples terms
    (:mod:`eolinked.terms`; null = unbound).  ASK: ``boolean``.  Graph: ``table`` with columns
    s, p, o (N-Triples terms)."""

    kind: str
    variables: list[str] = field(default_factory=list)
    table: pa.Table | None = None
    boolean: bool | None = None

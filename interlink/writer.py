"""Output: link triples (N-Triples, or N-Quads with a graph) and the optional pairs file,
each written to a temporary file beside its target and renamed only when the whole run
succeeded, so a failed run leaves nothing behind.
"""
from __future__ import annotations

import gzip
import os
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from eolinked.errors import EolinkedError
from eolinked.outputs import normal_mode
from eolinked.vocab import RDF, XSD

IL = "https://w3id.org/eolinked/interlink#"
WITHIN_DISTANCE = IL + "withinDistance"
DISTANCE = IL + "distanceMetres"


class AtomicFiles:
    """Context manager handing out temporary paths; all are renamed to their targets on success,
    all are deleted on error."""

    def __init__(self):
        self._temps: dict[str, str] = {}

    def path(self, target: str) -> str:
        directory = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(directory):
            raise EolinkedError("output directory does not exist", where=directory,
                                hint="create it first or choose another output path")
        fd, tmp = tempfile.mkstemp(prefix=".interlink-", suffix=".part", dir=directory)
        os.close(fd)
        normal_mode(tmp)
        self._temps[target] = tmp
        return tmp

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            for target, tmp in self._temps.items():
                os.replace(tmp, target)
        else:
            for tmp in self._temps.values():
                if os.path.exists(tmp):
                    os.remove(tmp)
        return False


def open_text(tmp: str, target: str):
    """A binary file for ``tmp``, gzip-compressed when ``target`` ends in .gz."""
    return gzip.open(tmp, "wb", compresslevel=4) if target.endswith(".gz") else open(tmp, "wb", buffering=1 << 22)


def _iri(arr) -> pa.Array:
    return pc.binary_join_element_wise("<", arr, ">", "")


def link_lines(sources: pa.Array, predicates: pa.Array, targets: pa.Array, graph: str | None = None) -> pa.Array:
    """``<s> <p> <o> [<g>] .`` lines."""
    end = [f"<{graph}>", ".\n"] if graph else [".\n"]
    return pc.binary_join_element_wise(_iri(sources), _iri(predicates), _iri(targets), *end, " ")


def distance_lines(sources: pa.Array, targets: pa.Array, metres: np.ndarray, i: np.ndarray, j: np.ndarray,
                   graph: str | None = None) -> pa.Array:
    """An ``il:withinDistance`` link per pair plus its RDF reification carrying ``il:distanceMetres``.

    The statement node is the blank node ``_:d<i>x<j>`` of the pair's feature numbers, so every
    engine names it alike."""
    n = len(sources)
    end = [f"<{graph}>", ".\n"] if graph else [".\n"]
    node = pc.binary_join_element_wise("_:d", pa.array(i).cast(pa.string()), "x", pa.array(j).cast(pa.string()), "")
    value = pc.binary_join_element_wise('"', pa.array(metres).cast(pa.string()), f'"^^<{XSD}double>', "")
    s, t = _iri(sources), _iri(targets)
    rows = [(s, f"<{WITHIN_DISTANCE}>", t), (node, f"<{RDF}type>", f"<{RDF}Statement>"),
            (node, f"<{RDF}subject>", s), (node, f"<{RDF}predicate>", f"<{WITHIN_DISTANCE}>"),
            (node, f"<{RDF}object>", t), (node, f"<{DISTANCE}>", value)]
    cols = [pc.binary_join_element_wise(a, b, c, *end, " ") for a, b, c in rows]
    # interleave: the 6 lines of pair k together
    return pa.concat_arrays(cols).take(pa.array(np.arange(6 * n).reshape(6, n).T.ravel()))


def write_pairs(path: str, tmp: str, table: pa.Table) -> None:
    """The pairs table as Parquet (``.parquet``) or CSV (``.csv``)."""
    low = path.lower()
    if low.endswith(".parquet"):
        pq.write_table(table, tmp)
    elif low.endswith(".csv"):
        pacsv.write_csv(table, tmp)
    else:
        raise EolinkedError("cannot tell the pairs format from the extension", where=path,
                            hint="name it .parquet or .csv")


def check_outputs(output: str | None, pairs: str | None) -> None:
    """Fail before any work on output names we cannot write."""
    if output and not output.lower().removesuffix(".gz").endswith((".nt", ".nq", ".ntriples", ".nquads")):
        raise EolinkedError("the link output must be N-Triples (.nt) or N-Quads (.nq), optionally .gz", where=output,
                            hint="e.g. -o links.nt, or -o links.nq with --graph IRI")
    if pairs and not pairs.lower().endswith((".parquet", ".csv")):
        raise EolinkedError("cannot tell the pairs format from the extension", where=pairs,
                            hint="name it .parquet or .csv")
    for path in (output, pairs):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise EolinkedError("output directory does not exist", where=os.path.dirname(os.path.abspath(path)),
                                hint="create it first or choose another output path")

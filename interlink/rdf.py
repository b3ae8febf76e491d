"""Features from RDF: N-Triples, N-Quads, Turtle, TriG (optionally .gz) or Parquet triples.

The file is loaded into an in-memory pyoxigraph store and one SPARQL query (over the union
of all graphs) returns feature, geometry and literal as CSV, which Arrow parses: no
per-triple Python. A feature with several geometries uses geo:hasDefaultGeometry before
geo:hasGeometry, WKT before GML before GeoJSON, then the smallest geometry IRI. Literals in
several CRSs are reprojected to the most frequent one. Parquet triples hold N-Triples terms
in string columns s, p, o (and g, ignored: graphs are merged).
"""
from __future__ import annotations

import gzip
import io
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyoxigraph as ox
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.literals import literal_geometries
from eolinked.ntriples import utf8_bytes
from eolinked.vocab import GEO, GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

from .features import Features, examples

RDF_FORMATS = {".nt": ox.RdfFormat.N_TRIPLES, ".ntriples": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
               ".nquads": ox.RdfFormat.N_QUADS, ".ttl": ox.RdfFormat.TURTLE, ".turtle": ox.RdfFormat.TURTLE,
               ".trig": ox.RdfFormat.TRIG}
_KINDS = {GEO + "asWKT": WKT_LITERAL, GEO + "asGML": GML_LITERAL, GEO + "asGeoJSON": GEOJSON_LITERAL}
_QUERY = f"""PREFIX geo: <{GEO}>
SELECT ?f ?g ?gp ?lit ?rank WHERE {{
  {{ ?f geo:hasDefaultGeometry ?g BIND(0 AS ?rank) }} UNION {{ ?f geo:hasGeometry ?g BIND(1 AS ?rank) }}
  ?g ?gp ?lit . VALUES ?gp {{ geo:asWKT geo:asGML geo:asGeoJSON }}
}}"""


def read_rdf(path: str, parquet: bool = False, parts: list[str] | None = None) -> Features:
    """Features of an RDF file (``parquet``: a Parquet file of N-Triples terms), or of the part
    files ``parts`` of a directory ``path`` (read as one document, in order)."""
    return _from_rdf(path, _query(parts or [path], "parquet-triples" if parquet else "rdf", path))


class _Chained(io.RawIOBase):
    """The files one after the other (gzip ones decompressed), as one stream, a line end between them."""

    def __init__(self, paths: list[str]):
        self._paths, self._fh = list(paths), None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._fh is not None or self._paths:
            if self._fh is None:
                path = self._paths.pop(0)
                self._fh = gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")
                data = b"\n"  # so a part without a final line end does not run into the next one
                buffer[:1] = data
                return 1
            n = self._fh.readinto(buffer)
            if n:
                return n
            self._fh.close()
            self._fh = None
        return 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        super().close()


def _query(paths: list[str], kind: str, where: str) -> pa.Table:
    store = ox.Store()
    try:
        if kind == "parquet-triples":
            store.load(_parquet_triples(paths, where), format=ox.RdfFormat.N_TRIPLES)
        else:
            fmt = RDF_FORMATS[os.path.splitext(paths[0].lower().removesuffix(".gz"))[1]]
            if len(paths) == 1 and not paths[0].lower().endswith(".gz"):
                store.load(path=paths[0], format=fmt)
            else:
                with io.BufferedReader(_Chained(paths), 1 << 20) as fh:
                    store.load(fh, format=fmt)
    except SyntaxError as exc:
        raise EolinkedError(f"cannot parse RDF: {exc}", where=where if len(paths) == 1 else f"{where} (part files)",
                            hint="check the syntax at that position, or the file extension (.nt, .nq, .ttl, .trig)"
                            ) from None
    data = store.query(_QUERY, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.CSV)
    cols = ["f", "g", "gp", "lit", "rank"]
    return pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(newlines_in_values=True),
                          convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in cols}))


def _parquet_triples(paths: list[str], where: str) -> bytes:
    preds = [f"<{GEO}{p}>" for p in ("hasGeometry", "hasDefaultGeometry", "asWKT", "asGML", "asGeoJSON")]
    try:
        t = pq.read_table(paths[0] if len(paths) == 1 else paths, columns=["s", "p", "o"],
                          filters=[("p", "in", preds)])
    except (pa.ArrowException, OSError) as exc:
        raise EolinkedError(f"cannot read Parquet triples: {exc}", where=where,
                            hint="columns s, p, o (and g) must hold N-Triples terms as strings") from None
    cols = [t.column(c).combine_chunks().cast(pa.string()) for c in ("s", "p", "o")]
    return bytes(utf8_bytes(pc.binary_join_element_wise(*cols, ".\n", " ")))


def _from_rdf(path: str, t: pa.Table) -> Features:
    notes = []
    blank = pc.starts_with(t["f"], "_:")
    if pc.any(blank).as_py():
        n = pc.count_distinct(pc.filter(t["f"], blank)).as_py()
        notes.append(f"skipped {n} blank-node features (a link needs an IRI)")
        t = t.filter(pc.invert(blank))
    if t.num_rows == 0:
        raise EolinkedError("no features with geo:hasGeometry or geo:hasDefaultGeometry -> geo:asWKT", where=path,
                            hint="each feature needs <feature> geo:hasGeometry <geom> . <geom> geo:asWKT \"...\"^^"
                                 "geo:wktLiteral (or geo:asGML / geo:asGeoJSON)")
    kind = pc.index_in(t["gp"], pa.array(list(_KINDS)))
    t = t.append_column("kind", kind).sort_by([("f", "ascending"), ("rank", "ascending"),
                                               ("kind", "ascending"), ("g", "ascending")])
    f = t["f"].combine_chunks()
    prev = pa.concat_arrays([pa.nulls(1, pa.string()), f.slice(0, len(f) - 1)])
    first = pc.fill_null(pc.not_equal(f, prev), True)
    if t.num_rows - pc.sum(first).as_py():
        many = pc.count_distinct(pc.filter(f, pc.invert(first))).as_py()
        notes.append(f"{many} features have several geometries: used geo:hasDefaultGeometry before "
                     "geo:hasGeometry, WKT before GML before GeoJSON, then the first geometry IRI")
    t = t.filter(first)
    ids, kinds, lits = t["f"].combine_chunks(), t["kind"].to_numpy(), t["lit"].combine_chunks()
    geoms, iris = np.empty(t.num_rows, object), np.empty(t.num_rows, object)
    for k, datatype in enumerate(_KINDS.values()):
        sel = np.flatnonzero(kinds == k)
        if len(sel):
            g, c = literal_geometries(lits.take(pa.array(sel)), datatype, on_invalid="null")
            geoms[sel], iris[sel] = g, c
    bad = shapely.is_missing(geoms)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        text = lits[i].as_py()
        notes.append(f"skipped {int(bad.sum())} unparsable geometry literals or unknown CRS IRIs"
                     f"{examples(ids, bad)}; first: {text[:80]!r}")
        ids, geoms, iris = ids.filter(pa.array(~bad)), geoms[~bad], iris[~bad]
        if len(geoms) == 0:
            raise EolinkedError(f"no readable geometry literal; first: <{t['f'][i]}> {text[:80]!r}", where=path,
                                hint='write WKT such as "POINT(23.7 37.9)"^^geo:wktLiteral')
    geoms, crs, note = _one_crs(geoms, iris)
    if note:
        notes.append(note)
    return Features.from_arrays(ids, geoms, crs, path, notes)


def _one_crs(geoms: np.ndarray, iris: np.ndarray):
    """All geometries in the dataset's most frequent CRS (others reprojected to it)."""
    names, inverse, counts = np.unique(iris.astype(str), return_inverse=True, return_counts=True)
    main = int(np.argmax(counts))
    if len(names) == 1:
        return geoms, names[0], None
    geoms = geoms.copy()
    for k, name in enumerate(names):
        if k != main:
            sel = inverse == k
            geoms[sel] = crslib.reproject(geoms[sel], name, names[main])
    return geoms, names[main], (f"literals in {len(names)} CRSs: {int(len(geoms) - counts[main])} reprojected "
                                f"to the most frequent, <{names[main]}>")



"""Input: features (IRI + geometry) from RDF files or geo files, cleaned and in one CRS per dataset.

RDF (N-Triples, N-Quads, Turtle, TriG, optionally .gz, or Parquet triples with N-Triples terms
in string columns s, p, o[, g]) is loaded into an in-memory pyoxigraph store and one SPARQL
query (over the union of all graphs) returns feature, geometry and literal as CSV, which
Arrow parses: no per-triple Python. A feature with several geometries uses
geo:hasDefaultGeometry before geo:hasGeometry, WKT before GML before GeoJSON, then the
smallest geometry IRI. Geo files are read with ``eolinked.vectorio``; feature IRIs come from
an ``--source-id``/``--target-id`` template (``{attribute}`` values are IRI-safe encoded,
``{__row}`` is the 1-based record number).
"""
from __future__ import annotations

import gzip
import io
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyoxigraph as ox
import pyproj
import shapely

from eolinked import crs as crslib
from eolinked.errors import EolinkedError
from eolinked.literals import literal_geometries
from eolinked.ntriples import as_text, invalid_iris, iri_safe, is_absolute_iri
from eolinked.vectorio import read_vector, vector_info
from eolinked.vocab import GEO, GEOJSON_LITERAL, GML_LITERAL, WKT_LITERAL

from .writer import utf8_bytes

ROW = "__row"
_RDF = {".nt": ox.RdfFormat.N_TRIPLES, ".ntriples": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
        ".nquads": ox.RdfFormat.N_QUADS, ".ttl": ox.RdfFormat.TURTLE, ".turtle": ox.RdfFormat.TURTLE,
        ".trig": ox.RdfFormat.TRIG}
_KINDS = {GEO + "asWKT": WKT_LITERAL, GEO + "asGML": GML_LITERAL, GEO + "asGeoJSON": GEOJSON_LITERAL}
_QUERY = f"""PREFIX geo: <{GEO}>
SELECT ?f ?g ?gp ?lit ?rank WHERE {{
  {{ ?f geo:hasDefaultGeometry ?g BIND(0 AS ?rank) }} UNION {{ ?f geo:hasGeometry ?g BIND(1 AS ?rank) }}
  ?g ?gp ?lit . VALUES ?gp {{ geo:asWKT geo:asGML geo:asGeoJSON }}
}}"""
_SHOWN = 3


@dataclass
class Features:
    """A dataset to link: feature IRIs, shapely geometries (x/y order) and their one CRS."""
    ids: pa.StringArray
    geoms: np.ndarray
    crs: pyproj.CRS
    name: str = "<memory>"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def bounds(self) -> np.ndarray:
        return shapely.bounds(self.geoms)

    @classmethod
    def from_arrays(cls, ids, geoms, crs="OGC:CRS84", name: str = "<memory>", notes=None) -> "Features":
        """Features from IRIs and geometries: invalid ones repaired, null/empty ones skipped (noted)."""
        ids = ids if isinstance(ids, pa.Array) else pa.array(list(ids), pa.string())
        geoms = np.asarray(geoms, dtype=object).reshape(-1)
        if len(ids) != len(geoms):
            raise EolinkedError(f"{len(ids)} ids but {len(geoms)} geometries", where=name)
        notes = list(notes or [])
        gone = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        if gone.any():
            notes.append(f"skipped {int(gone.sum())} empty or missing geometries{_examples(ids, gone)}")
            keep = pa.array(~gone)
            ids, geoms = ids.filter(keep), geoms[~gone]
        bad = ~shapely.is_valid(geoms)
        if bad.any():
            geoms = geoms.copy()
            geoms[bad] = shapely.make_valid(geoms[bad])
            notes.append(f"repaired {int(bad.sum())} invalid geometries with make_valid{_examples(ids, bad)}")
        return cls(ids, geoms, crslib.as_crs(crs), name, notes)


def _examples(ids: pa.Array, mask: np.ndarray) -> str:
    shown = ids.filter(pa.array(mask)).slice(0, _SHOWN).to_pylist()
    return " (e.g. " + ", ".join(f"<{s}>" for s in shown) + ")" if shown else ""


def read_features(path, id_template: str | None = None, layer=None, option: str = "--source-id",
                  batch_size: int = 65536) -> Features:
    """Read a dataset; ``id_template`` is required for geo files and refused for RDF."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EolinkedError("no such file", where=path, hint="check the path (relative to the working directory)")
    kind = _kind(path)
    if kind == "vector":
        if not id_template:
            raise EolinkedError(f"a geo file needs {option} to name its features", where=path,
                                hint=f"e.g. {option} 'http://example.org/parcel/{{id}}' with an attribute "
                                     f"of the file in braces ({{{ROW}}} is the record number)")
        return _read_vector(path, id_template, layer, option, batch_size)
    if id_template:
        raise EolinkedError(f"{option} applies to geo files only; RDF features keep their own IRIs", where=path,
                            hint=f"leave out {option}")
    table = _query(path, kind)
    return _from_rdf(path, table)


def _kind(path: str) -> str:
    low = path.lower().removesuffix(".gz")
    if low.endswith((".parquet", ".geoparquet")):
        meta = pq.read_schema(path)
        if b"geo" not in (meta.metadata or {}) and {"s", "p", "o"} <= set(meta.names):
            return "parquet-triples"
        return "vector"
    return "rdf" if os.path.splitext(low)[1] in _RDF else "vector"


# -- RDF ----------------------------------------------------------------------------------
def _query(path: str, kind: str) -> pa.Table:
    store = ox.Store()
    try:
        if kind == "parquet-triples":
            store.load(_parquet_triples(path), format=ox.RdfFormat.N_TRIPLES)
        else:
            fmt = _RDF[os.path.splitext(path.lower().removesuffix(".gz"))[1]]
            if path.lower().endswith(".gz"):
                with gzip.open(path, "rb") as fh:
                    store.load(fh, format=fmt)
            else:
                store.load(path=path, format=fmt)
    except SyntaxError as exc:
        raise EolinkedError(f"cannot parse RDF: {exc}", where=path,
                            hint="check the syntax at that position, or the file extension (.nt, .nq, .ttl, .trig)"
                            ) from None
    data = store.query(_QUERY, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.CSV)
    cols = ["f", "g", "gp", "lit", "rank"]
    return pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(newlines_in_values=True),
                          convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in cols}))


def _parquet_triples(path: str) -> bytes:
    preds = [f"<{GEO}{p}>" for p in ("hasGeometry", "hasDefaultGeometry", "asWKT", "asGML", "asGeoJSON")]
    try:
        t = pq.read_table(path, columns=["s", "p", "o"], filters=[("p", "in", preds)])
    except (pa.ArrowException, OSError) as exc:
        raise EolinkedError(f"cannot read Parquet triples: {exc}", where=path,
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
                     f"{_examples(ids, bad)}; first: {text[:80]!r}")
        ids, geoms, iris = ids.filter(pa.array(~bad)), geoms[~bad], iris[~bad]
        if len(geoms) == 0:
            raise EolinkedError(f"no readable geometry literal; first: <{f[0]}> {text[:80]!r}", where=path,
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


# -- geo files ------------------------------------------------------------------------------
_REF = re.compile(r"\{([^{}]*)\}")


def parse_template(text: str, where: str, option: str) -> list[tuple[bool, str]]:
    """``[(is_reference, text), ...]`` of an IRI template such as ``http://ex.org/parcel/{id}``."""
    def bad(why: str) -> EolinkedError:
        return EolinkedError(f"invalid {option} template {text!r}: {why}", where=where,
                             hint=f"write e.g. 'http://example.org/parcel/{{id}}', an absolute IRI with attribute "
                                  f"names in braces ({{{ROW}}} is the record number)")
    parts, pos = [], 0
    for m in [*_REF.finditer(text), None]:
        lit = text[pos:m.start() if m else len(text)]
        if "{" in lit or "}" in lit:
            raise bad("unbalanced '{' or '}'")
        if lit:
            parts.append((False, lit))
        if m:
            if not m.group(1).strip():
                raise bad("empty reference {}")
            parts.append((True, m.group(1)))
            pos = m.end()
    if not any(ref for ref, _ in parts):
        raise bad("no {attribute} reference, so every feature would get the same IRI")
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", text) or pc.any(invalid_iris(pa.array(
            [p for ref, p in parts if not ref]))).as_py():
        raise bad("not an absolute IRI (it must start with a scheme such as http:// and hold no spaces or <>\"")
    return parts


def _read_vector(path: str, template: str, layer, option: str, batch_size: int) -> Features:
    parts = parse_template(template, path, option)
    info = vector_info(path, layer)
    refs = list(dict.fromkeys(p for ref, p in parts if ref and p != ROW))
    missing = [r for r in refs if r not in info.fields]
    if missing:
        raise EolinkedError(f"{option} {template!r} names no attribute {', '.join(map(repr, missing))}", where=path,
                            hint="attributes: " + ", ".join(info.fields) + f" (and {{{ROW}}})")
    notes, crs = [], info.crs
    if crs is None:
        notes.append("the file declares no CRS; assuming CRS84 (lon/lat)")
        crs = "OGC:CRS84"
    id_parts, geoms, row = [], [], 0
    for table in read_vector(path, info.layer, refs, batch_size):
        n = table.num_rows
        values = {ROW: pa.array(np.arange(row + 1, row + n + 1)).cast(pa.string())}
        values |= {r: iri_safe(as_text(table.column(r).combine_chunks())) for r in refs}
        pieces = [values[p] if ref else p for ref, p in parts]
        id_parts.append(pc.binary_join_element_wise(*pieces, "") if len(pieces) > 1 else pieces[0])
        geoms.append(shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False)))
        row += n
    ids = pa.concat_arrays([a.cast(pa.string()) for a in id_parts])
    geoms = np.concatenate(geoms) if geoms else np.empty(0, object)
    if ids.null_count:
        null = ids.is_null().to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(null)[:_SHOWN] + 1
        notes.append(f"skipped {int(null.sum())} features whose {option} attribute is empty (records "
                     + ", ".join(map(str, rows)) + (", ..." if null.sum() > _SHOWN else "") + ")")
        ids, geoms = ids.filter(pa.array(~null)), geoms[~null]
    dup = len(ids) - pc.count_distinct(ids).as_py()
    if dup:
        notes.append(f"{dup} features share an IRI with another ({option} {template!r} is not unique)")
    if len(ids) and not pc.all(is_absolute_iri(ids)).as_py():
        raise EolinkedError(f"{option} {template!r} does not give absolute IRIs (first {ids[0]})", where=path)
    return Features.from_arrays(ids, geoms, crs, path, notes)

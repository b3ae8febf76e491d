"""Features from geo files (Shapefile, GeoPackage, GeoJSON, GeoParquet, anything GDAL reads)
with IRIs from a template: ``{attribute}`` values are IRI-safe encoded, ``{__row}`` is the
1-based record number; features whose referenced attribute is null are skipped (noted)."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from eolinked.errors import EolinkedError
from eolinked.ntriples import as_text, invalid_iris, iri_safe, is_absolute_iri
from eolinked.vectorio import read_vector, vector_info

from .features import SHOWN, Features

ROW = "__row"
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


def read_geofile(path: str, template: str, layer, option: str, batch_size: int, first_row: int = 1) -> Features:
    """Features of a geo file; ``{__row}`` counts from ``first_row``."""
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
    id_parts, geoms, row = [], [], first_row - 1
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
        rows = np.flatnonzero(null)[:SHOWN] + first_row
        notes.append(f"skipped {int(null.sum())} features whose {option} attribute is empty (records "
                     + ", ".join(map(str, rows)) + (", ..." if null.sum() > SHOWN else "") + ")")
        ids, geoms = ids.filter(pa.array(~null)), geoms[~null]
    dup = len(ids) - pc.count_distinct(ids).as_py()
    if dup:
        notes.append(f"{dup} features share an IRI with another ({option} {template!r} is not unique)")
    if len(ids) and not pc.all(is_absolute_iri(ids)).as_py():
        raise EolinkedError(f"{option} {template!r} does not give absolute IRIs (first {ids[0]})", where=path)
    return Features.from_arrays(ids, geoms, crs, path, notes)


"""Mapping generator: an RML mapping (legacy RML + GeoTriples rrx functions) for any supported input."""
from __future__ import annotations

import os
import re

import pyarrow as pa
import pyarrow.compute as pc

from eolinked.errors import EolinkedError
from eolinked.vocab import XSD

from .sources.base import ROW

GEOMETRY_REF = "the_geom"
_ID_NAMES = re.compile(r"^(id|fid|gid|objectid|object_id|gml_id|inspire_id|.*_id|id_.*|.*id)$", re.IGNORECASE)
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "footprint")


# prefixes of a legacy RML mapping with GeoTriples functions (also used by the benchmark and tests)
RML_PREFIXES = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in (
    ("rr", "http://www.w3.org/ns/r2rml#"), ("rml", "http://semweb.mmlab.be/ns/rml#"),
    ("ql", "http://semweb.mmlab.be/ns/ql#"), ("rrx", "http://www.w3.org/ns/r2rml-ext#"),
    ("rrxf", "http://www.w3.org/ns/r2rml-ext/functions/def/"), ("geo", "http://www.opengis.net/ont/geosparql#"),
    ("csvw", "http://www.w3.org/ns/csvw#"), ("xsd", XSD)))
_XSD_TYPES = ((pa.types.is_boolean, "boolean"), (pa.types.is_integer, "integer"), (pa.types.is_floating, "double"),
              (pa.types.is_decimal, "decimal"), (pa.types.is_date, "date"), (pa.types.is_timestamp, "dateTime"))


def _xsd(t: pa.DataType) -> str:
    return XSD + next((name for test, name in _XSD_TYPES if test(t)), "string")


def _sniff_delimiter(path: str) -> str:
    """The delimiter of a CSV file (comma, semicolon, tab or pipe) from its header line."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _schema(path: str, layer: str | None, wkt_column: str | None):
    """(kind, fields, geometry reference, id column, layer or CSV delimiter) of an input file."""
    ext = os.path.splitext(path.lower().removesuffix(".gz"))[1]
    if ext in (".csv", ".tsv"):
        import pyarrow.csv as pcsv

        delim = "\t" if ext == ".tsv" else _sniff_delimiter(path)
        try:
            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delim))
        except pa.ArrowInvalid as exc:
            raise EolinkedError(f"cannot read the CSV: {exc}", where=path,
                                hint="check quoting and that every row has as many fields as the header") from None
        fields = {f.name: f.type for f in table.schema}
        geom = wkt_column or next((c for c in fields if c.lower() in _WKT_NAMES), None)
        if wkt_column and wkt_column not in fields:
            raise EolinkedError(f"--wkt-column {wkt_column!r} is not a column", where=path,
                                hint="columns: " + ", ".join(fields))
        fields.pop(geom, None)
        return "csv", fields, geom, _id_column(fields, lambda c: table.column(c)), delim
    if ext in (".tif", ".tiff"):
        fields = {"region": pa.string(), "value": pa.int64(), "pixel_count": pa.int64()}
        return "raster", fields, GEOMETRY_REF, "region", None
    from eolinked.vectorio import read_vector, vector_info

    info = vector_info(path, layer)

    def column(name):
        return pa.chunked_array([t.column(name) for t in read_vector(path, info.layer, columns=[name])])

    from eolinked.vectorio import list_layers

    shown_layer = info.layer if layer or len(list_layers(path)) > 1 else None
    return "vector", dict(info.fields), GEOMETRY_REF, _id_column(info.fields, column), shown_layer


def _id_column(fields: dict, column) -> str:
    """An identifier: the first id-like attribute (integer or string), else a string attribute,
    holding unique non-null values; else the record number."""
    def text(t):
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    candidates = [c for c in fields if _ID_NAMES.match(c) and (pa.types.is_integer(fields[c]) or text(fields[c]))]
    candidates += [c for c in fields if text(fields[c]) and c not in candidates]
    for name in candidates[:12]:
        values = column(name)
        if values.null_count == 0 and len(values) and pc.count_distinct(values).as_py() == len(values):
            return name
    return ROW


def _local(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "field"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate_mapping(input_path: str, output: str, *, layer: str | None = None,
                     base_iri: str = "http://example.com/", class_name: str | None = None,
                     wkt_column: str | None = None) -> str:
    """Write a mapping for ``input_path`` to ``output``; returns a short description of the input."""
    if not os.path.exists(input_path):
        raise EolinkedError("input file not found", where=input_path, hint="check the path")
    kind, fields, geom, id_col, layer = _schema(input_path, layer, wkt_column)
    delimiter, layer = (layer, None) if kind == "csv" else (None, layer)
    stem = os.path.splitext(os.path.basename(input_path.removesuffix(".gz")))[0]
    cls = _local(class_name or (layer or stem).title().replace("_", "").replace("-", ""))
    base = base_iri if base_iri.endswith(("/", "#")) else base_iri + "/"
    rel = os.path.relpath(os.path.abspath(input_path), os.path.dirname(os.path.abspath(output)))
    source = f"rml:source {_lit(rel)}"
    if kind == "csv" and delimiter not in (",", "\t"):
        source = (f"rml:source [ a csvw:Table ; csvw:url {_lit(rel)} ;\n"
                  f"                 csvw:dialect [ csvw:delimiter {_lit(delimiter)} ] ]")
    if kind == "csv":
        source += " ;\n    rml:referenceFormulation ql:CSV"
    if layer:
        source += f" ;\n    rml:iterator {_lit(layer)}"
    feature_iri = f"{base}{cls}/{{{id_col}}}"
    lines = [
        RML_PREFIXES + f"@prefix onto: <{base}ontology#> .",
        f"@base <{base}mapping/{cls}> .",
        "",
        f"<#{cls}> a rr:TriplesMap ;",
        f"  rml:logicalSource [\n    {source}\n  ] ;",
        f"  rr:subjectMap [ rr:template {_lit(feature_iri)} ; rr:class onto:{cls}, geo:Feature ] ;",
    ]
    for name, t in fields.items():
        lines.append(f"  rr:predicateObjectMap [ rr:predicate onto:{_local(name)} ;\n"
                     f"    rr:objectMap [ rml:reference {_lit(name)} ; rr:datatype xsd:{_xsd(t).removeprefix(XSD)} ] ] ;")
    if geom is None:
        lines[-1] = lines[-1].rstrip(" ;") + " ."
    else:
        geom_iri = _lit(feature_iri + "/geometry")
        lines += [
            "  rr:predicateObjectMap [ rr:predicate geo:hasGeometry, geo:hasDefaultGeometry ;",
            f"    rr:objectMap [ rr:template {geom_iri} ] ] .",
            "",
            f"<#{cls}Geometry> a rr:TriplesMap ;",
            f"  rml:logicalSource [\n    {source}\n  ] ;",
            f"  rr:subjectMap [ rr:template {geom_iri} ; rr:class geo:Geometry ] ;",
            "  rr:predicateObjectMap [ rr:predicate geo:asWKT ;",
            f"    rr:objectMap [ rrx:function rrxf:asWKT ; rrx:argumentMap ( [ rml:reference {_lit(geom)} ] ) ;",
            "                   rr:datatype geo:wktLiteral ] ] .",
        ]
    tmp = output + ".part"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, output)
    return f"{input_path}{' layer ' + layer if layer else ''} ({len(fields)} attributes, id {id_col})"

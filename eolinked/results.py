"""SPARQL query results: one type for SELECT, ASK and graph (CONSTRUCT / DESCRIBE) results,
their writers and readers (SPARQL JSON / XML / CSV / TSV; Turtle, N-Triples, JSON-LD, RDF/XML)
and HTTP content negotiation.

The SELECT writers work on whole columns, in slices of 65536 rows: each cell's text is built
with Arrow compute from the canonical N-Triples column (whose string escapes are also valid JSON
escapes) and the rows are joined in Arrow, without a Python loop per row.  Graph results are
written as N-Triples in Arrow and converted by pyoxigraph for Turtle, JSON-LD and RDF/XML.
The JSON reader converts the parsed document to Arrow in one call and the CSV / TSV readers are
columnar; the XML reader walks the element tree in Python (the documented fallback; it serves
test expectations and small remote answers).

Lossy corners: XML 1.0 cannot carry most control characters (they become U+FFFD); CSV drops
term types (see :func:`read`); CSV / TSV define no ASK form, so ASK is written as the common
``_askResult`` / ``?_askResult`` column holding ``true`` or ``false``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import EolinkedError
from .terms import escape, unescape
from .vocab import PREFIXES, RDF_LANG_STRING, XSD, XSD_STRING


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


# ---------------------------------------------------------------------------------------------
# formats and content negotiation

SOLUTIONS, GRAPH = frozenset({"select", "ask"}), frozenset({"graph"})


@dataclass(frozen=True)
class Format:
    """A result format: CLI ``name``, canonical ``media_type`` and the result kinds it carries."""

    name: str
    media_type: str
    kinds: frozenset
    description: str


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("json", "application/sparql-results+json", SOLUTIONS, "SPARQL 1.1 Query Results JSON"),
    Format("xml", "application/sparql-results+xml", SOLUTIONS, "SPARQL Query Results XML"),
    Format("csv", "text/csv", SOLUTIONS, "SPARQL 1.1 Query Results CSV (lossy: plain values)"),
    Format("tsv", "text/tab-separated-values", SOLUTIONS, "SPARQL 1.1 Query Results TSV"),
    Format("ttl", "text/turtle", GRAPH, "Turtle"),
    Format("nt", "application/n-triples", GRAPH, "N-Triples"),
    Format("jsonld", "application/ld+json", GRAPH, "JSON-LD"),
    Format("rdfxml", "application/rdf+xml", GRAPH, "RDF/XML"),
]}
DEFAULT_FORMAT = {"select": "json", "ask": "json", "graph": "ttl"}

# media types a client may ask for, in the server's order of preference, per result kind
_MEDIA = {
    SOLUTIONS: [("application/sparql-results+json", "json"), ("application/json", "json"),
                ("text/javascript", "json"), ("application/javascript", "json"),
                ("application/sparql-results+xml", "xml"), ("application/xml", "xml"),
                ("text/xml", "xml"), ("text/csv", "csv"), ("text/tab-separated-values", "tsv")],
    GRAPH: [("text/turtle", "ttl"), ("application/turtle", "ttl"), ("application/x-turtle", "ttl"),
            ("text/n3", "ttl"), ("text/rdf+n3", "ttl"), ("application/n3", "ttl"),
            ("application/n-triples", "nt"), ("application/ld+json", "jsonld"),
            ("application/x-json+ld", "jsonld"), ("application/json", "jsonld"),
            ("application/rdf+xml", "rdfxml"), ("application/xml", "rdfxml"), ("text/xml", "rdfxml")],
}
# short names (CLI --format, the protocol's format= / output= parameter), per result kind
_NAMES = {
    SOLUTIONS: {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv", "tsv": "tsv"},
    GRAPH: {"ttl": "ttl", "turtle": "ttl", "n3": "ttl", "nt": "nt", "ntriples": "nt",
            "n-triples": "nt", "jsonld": "jsonld", "json-ld": "jsonld", "json": "jsonld",
            "rdfxml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml", "xml": "rdfxml"},
}


def _kinds(kind: str) -> frozenset:
    if kind not in ("select", "ask", "graph"):
        raise EolinkedError(f"unknown result kind {kind!r}", hint="use select, ask or graph")
    return GRAPH if kind == "graph" else SOLUTIONS


def resolve(name: str, kind: str) -> str | None:
    """The format for a short name (``json``, ``turtle``, ...) or media type given for a result of
    ``kind``; ``json`` / ``xml`` mean JSON-LD / RDF/XML for graph results.  None if unknown."""
    kinds = _kinds(kind)
    key = name.strip().lower()
    return _NAMES[kinds].get(key) or dict(_MEDIA[kinds]).get(key.split(";")[0].strip())


def negotiate(accept: str | None, kind: str) -> tuple[str, str]:
    """Choose ``(format name, media type)`` for a result of ``kind`` from an HTTP Accept header.

    Each offered media type takes the q-value of the most specific matching range (exact, then
    ``type/*``, then ``*/*``; wildcards match only the canonical types of :data:`FORMATS`, not
    aliases such as ``text/javascript``); the highest q wins, ties go to the range the client listed first,
    then to the server's preference (JSON for SELECT / ASK, Turtle for graphs).  When nothing
    is acceptable the default format is returned (RFC 9110 allows disregarding Accept)."""
    kinds = _kinds(kind)
    ranges = _parse_accept(accept or "*/*")
    best = None
    for pref, (media, fmt) in enumerate(_MEDIA[kinds]):
        typ = media.split("/")[0]
        matches = [(spec, q, i) for spec, q, i in
                   ((_specificity(r, media, typ), q, i) for r, q, i in ranges) if spec]
        if not matches:
            continue
        _, q, order = max(matches, key=lambda m: (m[0], -m[2]))
        if q > 0 and (best is None or (q, -order, -pref) > best[0]):
            best = ((q, -order, -pref), fmt)
    fmt = best[1] if best else DEFAULT_FORMAT[kind]
    return fmt, FORMATS[fmt].media_type


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    out = []
    for i, part in enumerate(p for p in accept.split(",") if p.strip()):
        media, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        out.append((media.lower(), q, i))
    return out


_CANONICAL = {f.media_type for f in FORMATS.values()}


def _specificity(range_: str, media: str, typ: str) -> int:
    if range_ == media:
        return 3
    if media not in _CANONICAL:
        return 0
    return 2 if range_ == typ + "/*" else 1 if range_ == "*/*" else 0


# ---------------------------------------------------------------------------------------------
# writers

def write(result: Result, fmt: str) -> bytes:
    """Serialise ``result`` in format ``fmt`` (a :data:`FORMATS` name) as UTF-8 bytes."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise EolinkedError(f"unknown result format {fmt!r}", hint="use one of " + ", ".join(FORMATS))
    if result.kind not in spec.kinds:
        usable = ", ".join(f.name for f in FORMATS.values() if result.kind in f.kinds)
        raise EolinkedError(f"format {fmt} cannot carry {result.kind.upper()} results",
                            hint=f"use one of {usable}")
    if result.kind == "ask":
        return _ASK_WRITERS[fmt](bool(result.boolean)).encode()
    if result.kind == "graph":
        return _write_graph(result.table, fmt)
    table = result.table if result.table is not None else pa.table({v: pa.array([], pa.string())
                                                                    for v in result.variables})
    head, rows, sep, tail = _SELECT_WRITERS[fmt]
    out = [head(result.variables).encode()]
    for start in range(0, table.num_rows, _SLICE):
        part = table.slice(start, min(_SLICE, table.num_rows - start))
        columns = [_column(part, v) for v in result.variables]
        out.append((sep.encode() if start else b"") + _join_all(rows(result.variables, columns, part.num_rows), sep))
    out.append(tail(table.num_rows).encode())
    return b"".join(out)


_ASK_WRITERS = {
    "json": lambda b: '{"head":{},"boolean":%s}\n' % ("true" if b else "false"),
    "xml": lambda b: ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns='
                      '"http://www.w3.org/2005/sparql-results#">\n<head/>\n<boolean>%s</boolean>\n'
                      '</sparql>\n' % ("true" if b else "false")),
    # CSV / TSV define no ASK form; this is the common convention (Jena, RDF4J)
    "csv": lambda b: "_askResult\r\n%s\r\n" % ("true" if b else "false"),
    "tsv": lambda b: "?_askResult\n%s\n" % ("true" if b else "false"),
}

_NULL = pa.scalar(None, pa.string())
_LIT_RE = r'^"(?P<lex>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[^@]+)|\^\^<(?P<dt>[^>]*)>)?$'
_NON_JSON_ESCAPE = r'\\[^\\"nrtbfu]'


def _column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    col = table.column(name)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return col.cast(pa.string())


@dataclass
class _Parts:
    """A canonical N-Triples column split without unescaping: the kind masks, ``iri`` (null
    unless an IRI), ``lex`` (still N-Triples-escaped), ``lang``, ``dt`` (null for xsd:string)."""

    nt: pa.Array
    is_iri: pa.Array
    is_blank: pa.Array
    is_lit: pa.Array
    iri: pa.Array
    lex: pa.Array
    lang: pa.Array
    dt: pa.Array

    @classmethod
    def of(cls, nt: pa.Array) -> _Parts:
        first = pc.utf8_slice_codeunits(nt, 0, 1)
        lit = pc.extract_regex(nt, _LIT_RE)
        lang = pc.utf8_lower(pc.struct_field(lit, "lang"))
        dt = pc.struct_field(lit, "dt")
        lang = pc.if_else(pc.equal(lang, ""), _NULL, lang)
        dt = pc.if_else(pc.or_kleene(pc.equal(dt, ""), pc.equal(dt, XSD_STRING)), _NULL, dt)
        dt = pc.if_else(pc.is_valid(lang), _NULL, dt)
        is_iri = pc.fill_null(pc.equal(first, "<"), False)
        return cls(nt, is_iri, pc.fill_null(pc.starts_with(nt, "_:"), False),
                   pc.fill_null(pc.is_valid(lit), False),
                   pc.if_else(is_iri, pc.utf8_slice_codeunits(nt, 1, -1), _NULL),
                   pc.struct_field(lit, "lex"), lang, dt)

    @property
    def label(self) -> pa.Array:
        """Blank node labels (null elsewhere)."""
        return pc.if_else(self.is_blank, pc.utf8_slice_codeunits(self.nt, 2), _NULL)

    def bad(self) -> pa.Array:
        """True where a non-null value is not an IRI, blank node or literal."""
        ok = pc.or_(pc.or_(self.is_iri, self.is_blank), self.is_lit)
        return pc.and_(pc.is_valid(self.nt), pc.invert(ok))

    def plain(self) -> pa.Array:
        """Unescaped lexical form of literals (null elsewhere)."""
        return unescape(pc.if_else(self.is_lit, self.lex, _NULL)).cast(pa.string())


def _check(parts: _Parts, name: str) -> None:
    bad = parts.bad()
    if pc.any(bad).as_py():
        value = pc.filter(parts.nt, bad)[0].as_py()
        raise EolinkedError(f"column ?{name} holds {value[:80]!r}, which is not an N-Triples term",
                            hint="result columns hold canonical N-Triples terms (eolinked.terms)")


def _cat(*pieces) -> pa.Array:
    return pc.binary_join_element_wise(*pieces, "")


def _pick(parts: _Parts, iri, blank, literal) -> pa.Array:
    """Per row: ``iri`` for IRIs, ``blank`` for blank nodes, ``literal`` otherwise; null stays null."""
    out = pc.if_else(parts.is_iri, iri, pc.if_else(parts.is_blank, blank, literal))
    return pc.if_else(pc.is_valid(parts.nt), out, _NULL)


def _join_all(rows: pa.Array, sep: str) -> bytes:
    """Concatenate a string column with ``sep`` between values, in Arrow."""
    if len(rows) == 0:
        return b""
    rows = pc.fill_null(rows.cast(pa.large_string()), "")
    lists = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), rows)
    return pc.binary_join(lists, pa.scalar(sep, pa.large_string()))[0].as_buffer().to_pybytes()


def _json_lex(parts: _Parts) -> pa.Array:
    """Literal lexical forms escaped for JSON: canonical N-Triples escapes are JSON escapes."""
    lex = pc.if_else(parts.is_lit, parts.lex, _NULL)
    if pc.any(pc.match_substring_regex(lex, _NON_JSON_ESCAPE)).as_py():
        lex = escape(unescape(lex)).cast(pa.string())
    return lex


def _json_rows(variables, columns, n) -> pa.Array:
    cells = []
    for name, col in zip(variables, columns):
        parts = _Parts.of(col)
        _check(parts, name)
        key = json.dumps(name, ensure_ascii=False) + ':{"type":"'
        extra = pc.if_else(pc.is_valid(parts.lang), _cat(',"xml:lang":"', parts.lang, '"'),
                           pc.if_else(pc.is_valid(parts.dt), _cat(',"datatype":"', escape(parts.dt), '"'), ""))
        cells.append(_pick(parts,
                           _cat(key, 'uri","value":"', escape(parts.iri), '"}'),
                           _cat(key, 'bnode","value":"', escape(parts.label), '"}'),
                           _cat(key, 'literal","value":"', _json_lex(parts), '"', extra, "}")))
    return _cat("{", _row_join(cells, ",", n, skip=True), "}")


_XML_BAD = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def _xml_text(text: pa.Array, attribute: bool = False) -> pa.Array:
    for raw, ent in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = pc.replace_substring(text, raw, ent)
    if attribute:
        for raw, ent in (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;")):
            text = pc.replace_substring(text, raw, ent)
    # XML 1.0 cannot carry these characters at all, not even as references
    return pc.replace_substring_regex(text, _XML_BAD, "\ufffd")


def _xml_rows(variables, columns, n) -> pa.Array:
    cells = []
    for name, col in zip(variables, columns):
        parts = _Parts.of(col)
        _check(parts, name)
        open_ = f'<binding name="{name}">'
        attr = pc.if_else(pc.is_valid(parts.lang), _cat(' xml:lang="', _xml_text(parts.lang, True), '"'),
                          pc.if_else(pc.is_valid(parts.dt),
                                     _cat(' datatype="', _xml_text(parts.dt, True), '"'), ""))
        cells.append(_pick(parts,
                           _cat(open_, "<uri>", _xml_text(parts.iri), "</uri></binding>"),
                           _cat(open_, "<bnode>", _xml_text(parts.label), "</bnode></binding>"),
                           _cat(open_, "<literal", attr, ">", _xml_text(parts.plain()),
                                "</literal></binding>")))
    return _cat("<result>", _row_join(cells, "", n, skip=True), "</result>")


def _csv_rows(variables, columns, n) -> pa.Array:
    cells = []
    for name, col in zip(variables, columns):
        parts = _Parts.of(col)
        _check(parts, name)
        text = pc.fill_null(_pick(parts, parts.iri, _cat("_:", parts.label), parts.plain()), "")
        quote = pc.match_substring_regex(text, '[",\r\n]')
        quoted = _cat('"', pc.replace_substring(text, '"', '""'), '"')
        cells.append(pc.if_else(quote, quoted, text))
    return _row_join(cells, ",", n)


def _tsv_rows(variables, columns, n) -> pa.Array:
    for name, col in zip(variables, columns):
        _check(_Parts.of(col), name)
    return _row_join([pc.fill_null(col, "") for col in columns], "\t", n)


def _row_join(cells: list, sep: str, n: int, skip: bool = False) -> pa.Array:
    if not cells:
        return pa.array([""] * n, pa.string())
    if skip:  # leave unbound cells out (null_handling="skip" loses all-null rows in pyarrow 26)
        pieces = [pc.fill_null(_cat(sep, c), "") for c in cells]
        return pc.utf8_slice_codeunits(_cat(*pieces), len(sep)) if sep else _cat(*pieces)
    return pc.binary_join_element_wise(*cells, sep)


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
# format: (header from the variables, rows of a slice, separator, trailer given the row count)
_SELECT_WRITERS = {
    "json": (lambda vs: '{"head":' + json.dumps({"vars": vs}, ensure_ascii=False, separators=(",", ":"))
             + ',"results":{"bindings":[\n', _json_rows, ",\n", lambda n: "\n]}}\n" if n else "]}}\n"),
    "xml": (lambda vs: _XML_HEAD + "<head>" + "".join(f'<variable name="{v}"/>' for v in vs)
            + "</head>\n<results>\n", _xml_rows, "\n",
            lambda n: ("\n" if n else "") + "</results>\n</sparql>\n"),
    "csv": (lambda vs: ",".join(vs) + "\r\n", _csv_rows, "\r\n", lambda n: "\r\n" if n else ""),
    "tsv": (lambda vs: "\t".join("?" + v for v in vs) + "\n", _tsv_rows, "\n", lambda n: "\n" if n else ""),
}
_SLICE = 1 << 16  # rows per vectorised slice: bounds memory and keeps string offsets 32-bit


def _ntriples(table: pa.Table | None) -> bytes:
    if table is None or table.num_rows == 0:
        return b""
    out = []
    for start in range(0, table.num_rows, _SLICE):
        part = table.slice(start, min(_SLICE, table.num_rows - start))
        s, p, o = (_column(part, c) for c in ("s", "p", "o"))
        out.append(_join_all(_cat(s, " ", p, " ", o, " .\n"), ""))
    return b"".join(out)


def _write_graph(table: pa.Table | None, fmt: str) -> bytes:
    import pyoxigraph as ox

    data = _ntriples(table)
    if fmt == "nt":
        return data
    target = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
              "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
    prefixes = None
    if fmt != "jsonld":
        text = data.decode()
        prefixes = {k: v for k, v in PREFIXES.items() if "<" + v in text}
    try:
        return ox.serialize(ox.parse(data, ox.RdfFormat.N_TRIPLES), format=target, prefixes=prefixes)
    except (SyntaxError, ValueError, OSError) as exc:
        raise EolinkedError(f"cannot write the graph result as {FORMATS[fmt].description}: {exc}",
                            hint="N-Triples (nt) can carry any graph") from exc


# ---------------------------------------------------------------------------------------------
# readers

def read(data: bytes, fmt: str) -> Result:
    """Parse a SPARQL result document (json, xml, csv, tsv) or an RDF graph (ttl, nt, jsonld,
    rdfxml) into a :class:`Result` with canonical N-Triples terms.  CSV is lossy: empty cells are
    unbound, ``_:x`` is a blank node, values that look like absolute IRIs are IRIs and everything
    else is a simple literal."""
    readers = {"json": _read_json, "xml": _read_xml, "csv": _read_csv, "tsv": _read_tsv}
    if fmt in readers:
        return readers[fmt](data)
    if fmt in FORMATS:
        return _read_graph(data, fmt)
    raise EolinkedError(f"unknown result format {fmt!r}", hint="use one of " + ", ".join(FORMATS))


def _terms_nt(typ: pa.Array, value: pa.Array, lang: pa.Array, dt: pa.Array) -> pa.Array:
    """N-Triples text from result-format parts: ``typ`` is uri / bnode / literal / typed-literal."""
    typ, value = typ.cast(pa.string()), pc.fill_null(value.cast(pa.string()), "")
    lang = pc.utf8_lower(lang.cast(pa.string()))
    lang = pc.if_else(pc.equal(lang, ""), _NULL, lang)
    dt = dt.cast(pa.string())
    dt = pc.if_else(pc.or_kleene(pc.equal(dt, XSD_STRING), pc.equal(dt, RDF_LANG_STRING)), _NULL, dt)
    dt = pc.if_else(pc.equal(dt, ""), _NULL, dt)
    quoted = _cat('"', escape(value), '"')
    literal = pc.if_else(pc.is_valid(lang), _cat(quoted, "@", lang),
                         pc.if_else(pc.is_valid(dt), _cat(quoted, "^^<", dt, ">"), quoted))
    blank = _cat("_:", pc.replace_substring_regex(value, r"[^A-Za-z0-9_\-.]", "_"))
    known = pc.is_in(typ, pa.array(["uri", "bnode", "literal", "typed-literal"], pa.string()))
    unknown = pc.and_(pc.is_valid(typ), pc.invert(known))
    if pc.any(unknown).as_py():
        other = pc.filter(typ, unknown)[0].as_py()
        raise EolinkedError(f"unsupported RDF term type {other!r} in the results",
                            hint="terms are uri, bnode or literal")
    out = pc.if_else(pc.equal(typ, "uri"), _cat("<", value, ">"),
                     pc.if_else(pc.equal(typ, "bnode"), blank, literal))
    return out.cast(pa.string())


def _read_json(data: bytes) -> Result:
    try:
        doc = json.loads(data)
        if "boolean" in doc:
            return Result("ask", boolean=bool(doc["boolean"]))
        variables = list(doc.get("head", {}).get("vars", []))
        bindings = doc.get("results", {}).get("bindings", [])
        term = pa.struct([(k, pa.string()) for k in ("type", "value", "xml:lang", "lang", "datatype")])
        rows = pa.array(bindings, pa.struct([(v, term) for v in variables]))
    except (ValueError, TypeError, AttributeError, pa.ArrowException) as exc:
        raise EolinkedError(f"invalid SPARQL JSON results: {exc}",
                            hint="expected {\"head\": {\"vars\": [...]}, \"results\": {\"bindings\": [...]}} "
                                 "or {\"boolean\": ...}") from exc
    columns = {}
    for v in variables:
        cell = pc.struct_field(rows, v)
        f = {k: pc.if_else(pc.is_valid(cell), pc.struct_field(cell, k), pa.scalar(None, pa.string()))
             for k in ("type", "value", "xml:lang", "lang", "datatype")}
        columns[v] = _terms_nt(f["type"], f["value"], pc.coalesce(f["xml:lang"], f["lang"]), f["datatype"])
    return Result("select", variables, _table(columns, len(bindings)))


_SRX = "{http://www.w3.org/2005/sparql-results#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _read_xml(data: bytes) -> Result:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise EolinkedError(f"invalid SPARQL XML results: {exc}") from exc
    boolean = root.find(f"{_SRX}boolean")
    if boolean is not None:
        return Result("ask", boolean=(boolean.text or "").strip() == "true")
    variables = [v.get("name") for v in root.iterfind(f"{_SRX}head/{_SRX}variable")]
    results = root.findall(f"{_SRX}results/{_SRX}result")
    index = {v: i for i, v in enumerate(variables)}
    parts = {v: ([None] * len(results), [None] * len(results), [None] * len(results),
                 [None] * len(results)) for v in variables}
    for r, result in enumerate(results):  # tree walk: the documented per-row fallback
        for binding in result.iterfind(f"{_SRX}binding"):
            name = binding.get("name")
            if name not in index or len(binding) == 0:
                continue
            term = binding[0]
            typ, value, lang, dt = parts[name]
            typ[r] = term.tag.removeprefix(_SRX)
            value[r] = term.text or ""
            lang[r], dt[r] = term.get(_XML_LANG), term.get("datatype")
    columns = {v: _terms_nt(*(pa.array(p, pa.string()) for p in parts[v])) for v in variables}
    return Result("select", variables, _table(columns, len(results)))


def _table(columns: dict, n: int) -> pa.Table:
    """A table of ``columns``; with no variables, ``n`` empty solutions."""
    return pa.table(columns) if columns else pa.table({"_": pa.nulls(n)}).select([])


_IRI_LIKE = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>{}|\\^`]*$"


def _read_csv(data: bytes) -> Result:
    text = data.lstrip(b"\xef\xbb\xbf")
    header = text.split(b"\n", 1)[0].rstrip(b"\r").decode()
    variables = [v.strip() for v in header.split(",")] if header else []
    if variables == ["_askResult"]:
        lines = text.splitlines()
        return Result("ask", boolean=len(lines) > 1 and lines[1].strip() == b"true")
    if not variables:
        return Result("select", [], _table({}, 0))
    convert = pacsv.ConvertOptions(column_types={v: pa.string() for v in variables}, null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=False)
    table = pacsv.read_csv(pa.py_buffer(text), convert_options=convert,
                           parse_options=pacsv.ParseOptions(ignore_empty_lines=False))
    columns = {}
    for v in variables:
        value = table.column(v).combine_chunks().cast(pa.string())
        blank = pc.starts_with(value, "_:")
        iri = pc.match_substring_regex(value, _IRI_LIKE)
        out = pc.if_else(blank, value, pc.if_else(iri, _cat("<", value, ">"), _cat('"', escape(value), '"')))
        columns[v] = out.cast(pa.string())
    return Result("select", variables, pa.table(columns))


_TSV_LITERAL = (r"^(?:\"(?P<dq>(?:[^\"\\]|\\.)*)\"|'(?P<sq>(?:[^'\\]|\\.)*)')"
                r"(?:@(?P<lang>[A-Za-z0-9\-]+)|\^\^(?:<(?P<dt>[^>]*)>|xsd:(?P<xsd>[A-Za-z]+)))?$")
_NUMBERS = [(r"^[+-]?[0-9]+$", "integer"), (r"^[+-]?[0-9]*\.[0-9]+$", "decimal"),
            (r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$", "double"),
            (r"^(?:true|false)$", "boolean")]


def _read_tsv(data: bytes) -> Result:
    text = data.decode().lstrip("\ufeff")
    lines = text.split("\n", 1)
    header = lines[0].removesuffix("\r")
    body = lines[1] if len(lines) > 1 else ""
    if not header:
        return Result("select", [], _table({}, 0))
    variables = [v.strip()[1:] for v in header.split("\t")]
    if variables == ["_askResult"]:
        return Result("ask", boolean=body.strip() == "true")
    rows = body.split("\n")
    if rows[-1] == "":
        rows.pop()
    rows = pc.replace_substring_regex(pa.array(rows, pa.string()), "\r$", "")
    cells = pc.split_pattern(rows, "\t")
    width = pc.list_value_length(cells)
    wrong = pc.not_equal(width, len(variables))
    if pc.any(wrong).as_py():
        line = pc.index(wrong, True).as_py() + 2
        raise EolinkedError(f"TSV results line {line}: expected {len(variables)} tab-separated values, "
                            f"found {pc.filter(width, wrong)[0].as_py()}")
    columns = {v: _tsv_terms(pc.list_element(cells, i)) for i, v in enumerate(variables)}
    return Result("select", variables, _table(columns, len(rows)))


def _tsv_terms(cells: pa.Array) -> pa.Array:
    """Turtle / SPARQL term syntax (short numbers and booleans included) to canonical N-Triples."""
    cells = pc.utf8_trim_whitespace(cells)
    cells = pc.if_else(pc.equal(cells, ""), _NULL, cells)
    lit = pc.extract_regex(cells, _TSV_LITERAL)
    lex = pc.if_else(pc.starts_with(cells, "'"), pc.struct_field(lit, "sq"), pc.struct_field(lit, "dq"))
    xsd = pc.struct_field(lit, "xsd")
    dt = pc.coalesce(pc.if_else(pc.equal(pc.struct_field(lit, "dt"), ""), _NULL, pc.struct_field(lit, "dt")),
                     pc.if_else(pc.equal(xsd, ""), _NULL, _cat(XSD, xsd)))
    lang = pc.struct_field(lit, "lang")
    typ = pc.if_else(pc.starts_with(cells, "<"), "uri", pc.if_else(pc.starts_with(cells, "_:"), "bnode", "literal"))
    value = pc.if_else(pc.starts_with(cells, "<"), pc.utf8_slice_codeunits(cells, 1, -1),
                       pc.if_else(pc.starts_with(cells, "_:"), pc.utf8_slice_codeunits(cells, 2),
                                  unescape(lex).cast(pa.string())))
    for pattern, local in _NUMBERS:
        number = pc.fill_null(pc.match_substring_regex(cells, pattern), False)
        value = pc.if_else(number, cells, value)
        dt = pc.if_else(number, XSD + local, dt)
    bad = pc.and_(pc.is_valid(cells), pc.is_null(value))
    if pc.any(bad).as_py():
        raise EolinkedError(f"TSV results: cannot read the term {pc.filter(cells, bad)[0].as_py()!r}",
                            hint="TSV cells hold <iri>, _:label, \"literal\" (with @lang or ^^<datatype>), "
                                 "numbers or booleans")
    typ = pc.if_else(pc.is_valid(cells), typ, _NULL)
    return _terms_nt(typ, value, lang, dt)


def _read_graph(data: bytes, fmt: str) -> Result:
    import pyoxigraph as ox

    source = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
              "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
    try:
        nt = ox.serialize(ox.parse(data, source), format=ox.RdfFormat.N_TRIPLES).decode()
    except (SyntaxError, ValueError) as exc:
        raise EolinkedError(f"invalid {FORMATS[fmt].description} graph result: {exc}") from exc
    lines = pa.array(nt.split("\n")[:-1] if nt else [], pa.string())
    spo = pc.extract_regex(lines, r"^(?P<s>\S+) (?P<p><[^>]*>) (?P<o>.*) \.$")
    return Result("graph", ["s", "p", "o"],
                  pa.table({k: pc.struct_field(spo, k) for k in ("s", "p", "o")}))


__all__ = ["DEFAULT_FORMAT", "FORMATS", "Format", "Result", "negotiate", "read", "resolve", "write"]

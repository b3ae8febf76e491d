"""The ``load``, ``query`` and ``serve`` subcommands of the GeoSPARQL store."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eolinked.errors import EolinkedError

RAW = argparse.RawDescriptionHelpFormatter

LOAD_EXAMPLES = """examples:
  eolinked load --store eo-store parcels.nt.gz corine.ttl
  eolinked load --store eo-store --append links.nt
  eolinked load --store eo-store --graph http://example.org/lucas lucas.nq
  eolinked load --store eo-store parcels.parquet/ out.nt/     # Spark output directories (part-* files)
  eolinked load --store eo-store --on-error skip messy.nt     # bad lines skipped, report written

Formats by extension: .nt .nq .ttl .trig .rdf/.owl/.xml (RDF/XML), optionally .gz, and the Parquet
triples the Spark transformer writes (.parquet: columns s, p, o[, g]); a directory loads its part-*
files. Every term is stored in one canonical form whatever the input format. Loading builds a new
version of the store and switches to it at the end: a failed load leaves the previous store as it was."""

QUERY_EXAMPLES = """examples:
  eolinked query --store eo-store 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
  eolinked query --store eo-store -f parcels-in-bbox.rq --format csv > parcels.csv
  eolinked query --store eo-store --format ttl 'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 10'
  eolinked query --store eo-store --explain -f join.rq       # print the SQL instead of running it

GeoSPARQL: geof: functions (Simple Features, Egenhofer, RCC8, relate, distance, buffer, ...) on
geo:wktLiteral / gmlLiteral / geoJSONLiteral, spatial FILTERs pruned by bounding box, spatial joins.
--rdfs turns on RDFS entailment (with the GeoSPARQL, Simple Features and GML class hierarchies)."""

SERVE_EXAMPLES = """examples:
  eolinked serve --store eo-store --port 7878
  curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * WHERE { ?s ?p ?o } LIMIT 3' \\
       http://127.0.0.1:7878/sparql
  eolinked serve --store eo-store --host 0.0.0.0 --port 8080 --cors --timeout 30

The endpoint (/sparql) speaks the SPARQL 1.1 Protocol: GET and POST (form or application/sparql-query),
results as SPARQL JSON / XML / CSV / TSV or Turtle / N-Triples / JSON-LD / RDF/XML by content
negotiation. It is read-only; a query past --timeout is answered 503."""


def register(sub) -> None:
    p = sub.add_parser("load", help="load RDF files into a Parquet GeoSPARQL store",
                       description="Load RDF into a store directory of Parquet tables.",
                       epilog=LOAD_EXAMPLES, formatter_class=RAW)
    p.add_argument("--store", required=True, type=Path, help="store directory (created if absent)")
    p.add_argument("files", nargs="+", type=Path, help="RDF files (or Spark output directories) to load")
    p.add_argument("--append", action="store_true", help="add to the store instead of replacing it")
    p.add_argument("--graph", help="named graph IRI for triples of triple formats (default: default graph)")
    p.add_argument("--on-error", choices=["fail", "skip"], default="fail",
                   help="stop at the first malformed line (default) or skip each one and write a report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_load)

    q = sub.add_parser("query", help="run a SPARQL query against a store",
                       description="Run a SPARQL 1.1 / GeoSPARQL query and print the results.",
                       epilog=QUERY_EXAMPLES, formatter_class=RAW)
    q.add_argument("--store", required=True, type=Path, help="store directory")
    q.add_argument("query", nargs="?", help="the query text (or use -f)")
    q.add_argument("-f", "--file", type=Path, help="read the query from this file")
    q.add_argument("--format", default=None,
                   help="json, xml, csv, tsv (SELECT/ASK; default tsv) or ttl, nt, jsonld, rdfxml "
                        "(CONSTRUCT/DESCRIBE; default ttl)")
    q.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    q.add_argument("--rdfs", action="store_true", help="RDFS entailment and GeoSPARQL query rewriting")
    q.add_argument("--explain", action="store_true", help="print the SQL the query compiles to")
    q.set_defaults(run=_query)

    s = sub.add_parser("serve", help="serve a store as a SPARQL 1.1 Protocol endpoint",
                       description="Serve a store at http://HOST:PORT/sparql.",
                       epilog=SERVE_EXAMPLES, formatter_class=RAW)
    s.add_argument("--store", required=True, type=Path, help="store directory")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=7878, help="port (0 = any free port; default 7878)")
    s.add_argument("--timeout", type=float, default=60.0, help="query timeout in seconds (default 60)")
    s.add_argument("--cors", action="store_true", help="allow cross-origin requests")
    s.add_argument("--rdfs", action="store_true", help="RDFS entailment and GeoSPARQL query rewriting")
    s.set_defaults(run=_serve)


def _load(args) -> int:
    from .loader import load

    summary = load(args.store, args.files, append=args.append, graph=args.graph, on_error=args.on_error,
                   progress=False if args.quiet else None)
    print(summary.line(), file=sys.stderr)
    return 0


def _query(args) -> int:
    from eolinked.results import write

    from .engine import Store

    if (args.query is None) == (args.file is None):
        raise EolinkedError("give the query text or -f FILE, not both and not neither")
    text = args.query if args.query is not None else _read(args.file)
    fmt = _format(args.format, text) if args.format and not args.explain else None  # before the query runs
    store = Store(args.store, entailment="rdfs" if args.rdfs else None)
    if args.explain:
        print(store.sql(text))
        return 0
    result = store.query(text, timeout=args.timeout)
    fmt = fmt or ("ttl" if result.kind == "graph" else "tsv")
    sys.stdout.buffer.write(write(result, fmt))
    return 0


def _format(name: str, text: str) -> str:
    """The output format ``name`` means for this query's kind of result; an error if none."""
    from eolinked.results import FORMATS, SOLUTIONS, resolve

    from .sparql import parse

    kind = {"SelectQuery": "select", "AskQuery": "ask"}.get(parse(text).algebra.name, "graph")
    fmt = resolve(name, kind)
    if fmt is None:
        wanted = "SELECT / ASK" if kind != "graph" else "CONSTRUCT / DESCRIBE"
        choices = [f.name for f in FORMATS.values() if (f.kinds == SOLUTIONS) == (kind != "graph")]
        known = any(resolve(name, k) for k in ("select", "graph"))
        why = f"is not an output format for {wanted} results" if known else "is not a known output format"
        example = "text/turtle" if kind == "graph" else "text/csv"
        raise EolinkedError(f"--format {name!r} {why}",
                            hint=f"choose one of {', '.join(choices)} (or a media type such as {example})")
    return fmt


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EolinkedError(f"cannot read the query: {exc.strerror}", where=str(path)) from None


def _serve(args) -> int:
    from eolinked.protocol import serve

    from .engine import Store

    store = Store(args.store, entailment="rdfs" if args.rdfs else None)

    def execute(query, default_graph_uris, named_graph_uris, deadline):
        return store.query(query, default_graphs=default_graph_uris, named_graphs=named_graph_uris)

    server = serve(execute, host=args.host, port=args.port, timeout=args.timeout, cors=args.cors)
    print(f"SPARQL endpoint at {server.url} (Ctrl-C stops it)", file=sys.stderr)
    server.wait()
    return 0

"""store.sparql / store.checks: SPARQL read as the 1.1 spec says (escaped prefixed names, relative
IRIs and BASE, `a`, number and boolean shorthands; answers compared with pyoxigraph's on the
same data), known functions' arity and constant types checked before anything runs, with the
function's name and position, and the CLI's --format checked before the query runs."""
from __future__ import annotations

import inspect
from collections import Counter

import pyoxigraph as ox
import pytest

from eolinked.errors import EolinkedError, QueryError
from eolinked.geosparql import GEO_AGGREGATES, GEO_SCALARS
from store import Store, load
from store.sparql import parse, resolve_iri

EX = "http://ex.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
GEOF = "http://www.opengis.net/def/function/geosparql/"
PREFIXES = f"""PREFIX ex: <{EX}>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <{GEOF}>
PREFIX xsd: <{XSD}>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
"""
# IRIs whose local names need PN_LOCAL_ESC in a prefixed name (and one with %HH, kept as written)
LOCALS = {r"crop\/3": "crop/3", r"a\.b": "a.b", r"x\~y": "x~y", r"q\?x": "q?x", r"h\#1": "h#1",
          r"p\%41": "p%41", r"a\!b\$c\&d": "a!b$c&d", r"s\'t\(u\)": "s't(u)", r"st\*\+\,\;\=": "st*+,;=",
          r"at\@x\-y\_z": "at@x-y_z", "p%41": "p%41"}
NUMBERS = ["1", "1.0", "1e0", "-1", "+1", "0.5", ".5", "1E+2", "-1.5e-3", "007", "true", "false"]


def _data() -> str:
    lines = []
    for i, local in enumerate(sorted(set(LOCALS.values()))):
        lines.append(f"<{EX}{local}> <{EX}rank> \"{i}\"^^<{XSD}integer> .")
        lines.append(f"<{EX}{local}> <{EX}link> <{EX}{sorted(set(LOCALS.values()))[i - 1]}> .")
        lines.append(f"<{EX}{local}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Thing> .")
    for v in ("1", "1.0", "-1", "+1", "0.5", "007", "100", "true", "false"):
        dt = "boolean" if v in ("true", "false") else "decimal" if "." in v else "integer"
        lines.append(f'<{EX}n{v}> <{EX}value> "{v}"^^<{XSD}{dt}> .')
    for v in ("1e0", "1E+2", "-1.5e-3"):
        lines.append(f'<{EX}d{v}> <{EX}value> "{v}"^^<{XSD}double> .')
    lines.append(f"<http://base.org/a/b/c> <{EX}rank> <http://base.org/a/x> .")
    lines.append(f"<http://base.org/a/b/c/a/b:c> <{EX}rank> <http://base.org/z> .")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("parse")
    text = _data()
    (root / "d.nt").write_text(text, encoding="utf-8")
    load(root / "store", [root / "d.nt"], progress=False)
    peer = ox.Store()
    peer.load(text.encode(), format=ox.RdfFormat.N_TRIPLES)
    return Store(root / "store"), peer


def _ours(store: Store, query: str):
    res = store.query(query)
    if res.kind == "ask":
        return res.boolean
    if res.kind == "graph":
        return Counter(tuple(r.values()) for r in res.table.to_pylist())
    return Counter(tuple(r[v] for v in res.variables) for r in res.table.to_pylist())


def _peer(peer: ox.Store, query: str):
    res = peer.query(query)
    if isinstance(res, ox.QueryBoolean):
        return bool(res)
    if isinstance(res, ox.QueryTriples):
        return Counter((str(t.subject), str(t.predicate), str(t.object)) for t in res)
    names = [v.value for v in res.variables]
    return Counter(tuple(None if s[n] is None else str(s[n]) for n in names) for s in res)


def _same(stores, query: str, nonempty: bool = True):
    ours, peer = _ours(stores[0], query), _peer(stores[1], query)
    assert ours == peer, query
    if nonempty:
        assert ours, query


# -- prefixed names with escapes ------------------------------------------------------------------------
@pytest.mark.parametrize("written", list(LOCALS))
def test_escaped_local_names_resolve_without_backslash(written):
    iri = parse(PREFIXES + f"SELECT * WHERE {{ ex:{written} ?p ?o }}").algebra.p.p.triples[0][0]
    assert str(iri) == EX + LOCALS[written]


@pytest.mark.parametrize("written", list(LOCALS))
def test_escaped_names_everywhere_like_pyoxigraph(stores, written):
    name = f"ex:{written}"
    queries = [
        f"SELECT ?r WHERE {{ {name} ex:rank ?r }}",                                       # triple pattern
        f"SELECT ?s WHERE {{ ?s ex:link {name} }}",
        f"SELECT ?s ?r WHERE {{ VALUES ?s {{ {name} ex:none }} ?s ex:rank ?r }}",          # VALUES
        f"SELECT ?s WHERE {{ ?s ex:rank ?r FILTER(?s = {name}) }}",                       # FILTER
        f"SELECT ?s WHERE {{ ?s ex:rank ?r FILTER(?s IN ({name}, ex:none)) }}",
        f"SELECT ?s ?t WHERE {{ ?s ex:rank ?r BIND({name} AS ?t) FILTER(sameTerm(?s, ?t)) }}",  # BIND
        f"SELECT ?x WHERE {{ {name} ex:link/ex:link ?x }}",                                # property path
        f"CONSTRUCT {{ {name} ex:seen ?r . ?s ex:pointsTo {name} }} WHERE {{ {name} ex:rank ?r . ?s ex:link {name} }}",
        f"SELECT (STR({name}) AS ?t) WHERE {{}}",
        f"ASK {{ {name} a ex:Thing }}",
    ]
    for q in queries:
        _same(stores, PREFIXES + q, nonempty=not q.startswith("ASK"))


# -- relative IRIs and BASE (RFC 3986) ------------------------------------------------------------------
RFC3986_BASE = "http://a/b/c/d;p?q"
RFC3986 = {"g:h": "g:h", "g": "http://a/b/c/g", "./g": "http://a/b/c/g", "g/": "http://a/b/c/g/",
           "/g": "http://a/g", "//g": "http://g", "?y": "http://a/b/c/d;p?y", "g?y": "http://a/b/c/g?y",
           "#s": "http://a/b/c/d;p?q#s", "g#s": "http://a/b/c/g#s", ";x": "http://a/b/c/;x",
           "": "http://a/b/c/d;p?q", ".": "http://a/b/c/", "./": "http://a/b/c/", "..": "http://a/b/",
           "../g": "http://a/b/g", "../..": "http://a/", "../../g": "http://a/g", "../../../g": "http://a/g",
           "/./g": "http://a/g", "/../g": "http://a/g", "g.": "http://a/b/c/g.", "..g": "http://a/b/c/..g",
           "./../g": "http://a/b/g", "./g/.": "http://a/b/c/g/", "g/./h": "http://a/b/c/g/h",
           "g/../h": "http://a/b/c/h", "g;x=1/../y": "http://a/b/c/y", "g?y/../x": "http://a/b/c/g?y/../x",
           "g#s/../x": "http://a/b/c/g#s/../x", "a/b:c": "http://a/b/c/a/b:c"}


@pytest.mark.parametrize("ref", list(RFC3986))
def test_rfc3986_resolution(ref):
    assert resolve_iri(ref, RFC3986_BASE) == RFC3986[ref]
    got = parse(f"BASE <{RFC3986_BASE}> SELECT * WHERE {{ <{ref}> ?p ?o }}").algebra.p.p.triples[0][0]
    assert str(got) == RFC3986[ref]


@pytest.mark.parametrize("base,ref", [("tag:ex,2020:x/y", "z"), ("urn:isbn:123", "#f"), ("foo:a/b/c", "../d"),
                                      ("http://a/b#f", ""), ("http://a", "g"), ("http://u@a:80/b/c", "../d")])
def test_relative_iris_like_pyoxigraph(stores, base, ref):
    _same(stores, f"BASE <{base}> SELECT ?x WHERE {{ BIND(<{ref}> AS ?x) }}")


@pytest.mark.parametrize("query", [
    "BASE <http://base.org/a/> SELECT ?o WHERE { <b/c> ?p ?o }",
    "BASE <http://base.org/a/b/> SELECT ?s WHERE { ?s ?p <../x> }",
    "BASE <http://base.org/q/> BASE <../a/b/> SELECT ?o WHERE { <c> ?p ?o }",                 # BASE after BASE
    "BASE <http://base.org/a/b/> PREFIX r: <c/> SELECT ?o WHERE { r:a\\/b:c ?p ?o }",         # relative PREFIX
    "BASE <http://base.org/a/b/c/> SELECT ?o WHERE { <a/b:c> ?p ?o }",
    "BASE <http://base.org/> SELECT ?x WHERE { BIND(\"1\"^^<t> AS ?x) }",                    # datatype IRI
    "BASE <http://base.org/a/> SELECT ?x WHERE { BIND(IRI(\"b/c\") AS ?x) }",
])
def test_base_queries_like_pyoxigraph(stores, query):
    _same(stores, query)


# -- `a`, numbers and booleans --------------------------------------------------------------------------
def test_a_is_rdf_type(stores):
    _same(stores, PREFIXES + "SELECT ?s WHERE { ?s a ex:Thing }")
    _same(stores, PREFIXES + "SELECT ?t WHERE { ex:a\\.b a ?t }")
    _same(stores, PREFIXES + "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
                             "SELECT ?s WHERE { ?s ?p ex:Thing FILTER(?p = rdf:type) }")
    _same(stores, PREFIXES + "SELECT ?x WHERE { ex:a\\.b a/^a ?x }")


# SPARQL 1.1, 19.8 (and 4.1.2): a number or boolean written bare is the literal with that lexical
# form (as written) and the grammar's datatype.  pyoxigraph keeps values, not lexical forms
# ("1.0" comes back as "1"), so the terms are checked against the spec, and value comparisons
# (FILTER =) against pyoxigraph.
SHORTHANDS = {"1": ("1", "integer"), "1.0": ("1.0", "decimal"), "1e0": ("1e0", "double"), "-1": ("-1", "integer"),
              "+1": ("+1", "integer"), "0.5": ("0.5", "decimal"), ".5": (".5", "decimal"),
              "1E+2": ("1E+2", "double"), "-1.5e-3": ("-1.5e-3", "double"), "007": ("007", "integer"),
              "true": ("true", "boolean"), "false": ("false", "boolean")}


@pytest.mark.parametrize("number", list(SHORTHANDS))
def test_number_and_boolean_shorthands(stores, number):
    lex, dt = SHORTHANDS[number]
    term = f'"{lex}"^^<{XSD}{dt}>'
    store = stores[0]
    assert _ours(store, f"SELECT ?x WHERE {{ VALUES ?x {{ {number} }} }}") == Counter([(term,)])
    assert _ours(store, f"SELECT ?x WHERE {{ BIND({number} AS ?x) }}") == Counter([(term,)])
    assert _ours(store, f"SELECT (DATATYPE({number}) AS ?t) (STR({number}) AS ?s) WHERE {{}}") == \
        Counter([(f"<{XSD}{dt}>", f'"{lex}"')])
    # a triple pattern matches the term itself (RDF term equality), not equal values
    nt_data = _data().splitlines()
    expected = Counter((line.split(" ")[0],) for line in nt_data
                       if line.split(" ", 2)[1:] == [f"<{EX}value>", f"{term} ."])
    assert _ours(store, PREFIXES + f"SELECT ?s WHERE {{ ?s ex:value {number} }}") == expected
    _same(stores, PREFIXES + f"SELECT ?s WHERE {{ ?s ex:value ?v FILTER(?v = {number}) }}", nonempty=False)
    _same(stores, f"SELECT (DATATYPE({number}) AS ?t) WHERE {{}}")


def test_shorthands_match_typed_data(stores):
    for number in ("1", "1.0", "007", "true", "1e0", "-1.5e-3", "+1"):
        assert _ours(stores[0], PREFIXES + f"SELECT ?s WHERE {{ ?s ex:value {number} }}")
        _same(stores, PREFIXES + f"SELECT ?s WHERE {{ ?s ex:value ?v FILTER(?v = {number} && isLiteral(?v)) }}")


# -- arity and constant types of known functions ---------------------------------------------------------
def _arity(fn) -> tuple[int, int]:
    params = list(inspect.signature(fn).parameters.values())
    return sum(p.default is p.empty for p in params), len(params)


def _error(query: str) -> QueryError:
    with pytest.raises(QueryError) as err:
        parse(PREFIXES + query)
    return err.value


@pytest.mark.parametrize("iri", sorted(GEO_SCALARS))
def test_every_geof_function_arity(iri):
    name = "geof:" + iri[len(GEOF):]
    lo, hi = _arity(GEO_SCALARS[iri])
    for n in range(lo, hi + 1):  # the right counts of variables pass
        parse(PREFIXES + f"SELECT ?x WHERE {{ ?s ?p ?o BIND({name}({', '.join(['?o'] * n)}) AS ?x) }}")
    wrong = [hi + 1] + ([lo - 1] if lo else [])
    for n in wrong:
        args = ", ".join(["?o"] * n)
        err = _error(f"SELECT ?x WHERE {{ ?s ?p ?o\n    BIND({name}({args}) AS ?x) }}")
        assert str(err).startswith(f"{name} at line 7, column 10 takes ") and f"not {n}" in str(err)
        assert err.hint and name in err.hint


@pytest.mark.parametrize("iri", sorted(GEO_AGGREGATES))
def test_geof_aggregates_take_one_argument(iri):
    name = "geof:" + iri[len(GEOF):]
    parse(PREFIXES + f"SELECT ({name}(?o) AS ?u) WHERE {{ ?s ?p ?o }}")
    assert "takes 1 argument, not 2" in str(_error(f"SELECT ({name}(?o, ?o) AS ?u) WHERE {{ ?s ?p ?o }}"))


@pytest.mark.parametrize("call,where", [
    ("geof:relate(?w, ?v)", "FILTER"), ("xsd:integer(?w, ?v)", "FILTER"), ("xsd:double()", "FILTER"),
    ("geof:distance(?w, ?v)", "ORDER BY"), ("geof:sfWithin(?w)", "SELECT"), ("geof:buffer(?w, 1)", "BIND"),
    ("geof:area(?w, uom:metre, 1)", "GROUP BY"), ("geof:isEmpty(geof:envelope(?w, ?v))", "FILTER"),
    ("geof:sfIntersects(geof:buffer(?w, 10, uom:metre, 2), ?v)", "HAVING"),
])
def test_arity_errors_everywhere_with_position(call, where):
    body = "?a geo:asWKT ?w . ?b geo:asWKT ?v"
    queries = {"FILTER": f"SELECT * WHERE {{ {body}\n FILTER({call}) }}",
               "ORDER BY": f"SELECT * WHERE {{ {body} }}\n ORDER BY ({call})",
               "SELECT": f"SELECT ?a\n ({call} AS ?x) WHERE {{ {body} }}",
               "BIND": f"SELECT * WHERE {{ {body}\n BIND({call} AS ?x) }}",
               "GROUP BY": f"SELECT (COUNT(*) AS ?n) WHERE {{ {body} }}\n GROUP BY ({call})",
               "HAVING": f"SELECT ?a WHERE {{ {body} }} GROUP BY ?a ?w ?v\n HAVING ({call})"}
    text = queries[where]
    err = _error(text)
    inner = call.split("(", 1)[0] if "geof:relate" in call or "xsd:" in call or call.count("(") == 1 else None
    line = PREFIXES.count("\n") + 2
    column = text.split("\n")[1].index(call.split("(")[0]) + 1
    assert f"at line {line}, column " in str(err) and "takes" in str(err)
    if inner:
        assert str(err).startswith(f"{inner} at line {line}, column {column} ")


@pytest.mark.parametrize("call,message", [
    ('geof:sfIntersects(?w, "POINT (1 2)")', 'argument 2 (geom2) is the literal "POINT (1 2)"'),
    ("geof:sfContains(ex:x, ?w)", f"argument 1 (geom1) is the IRI <{EX}x>"),
    ('geof:distance(?w, "1"^^xsd:integer, uom:metre)', "argument 2 (geom2)"),
    ("geof:relate(?w, ?w, ex:pattern)", f"argument 3 (pattern) is the IRI <{EX}pattern>"),
    ('geof:relate(?w, ?w, "T*F*")', "not 9 characters"),
    ('geof:relate(?w, ?w, "T*F**F**X")', "not 9 characters"),
    ("geof:relate(?w, ?w, 5)", "argument 3 (pattern)"),
    ('geof:distance(?w, ?w, "m"@en)', "argument 3 (unit)"),
    ("geof:distance(?w, ?w, 5)", "argument 3 (unit)"),
    ('geof:buffer(?w, "ten", uom:metre)', "argument 2 (radius)"),
    ("geof:buffer(?w, ex:ten, uom:metre)", "argument 2 (radius) is the IRI"),
    ("geof:transform(?w, 4326)", "argument 2 (crs)"),
    ('geof:geometryN(?w, "1")', "argument 2 (n)"),
    ('geof:area("POLYGON ((0 0, 1 0, 1 1, 0 0))")', "argument 1 (geom)"),
])
def test_constant_type_errors(call, message):
    err = _error(f"SELECT * WHERE {{ ?a geo:asWKT ?w\n  FILTER({call}) }}")
    name = call.split("(")[0]
    assert str(err).startswith(f"{name} at line 7, column 10: ") and message in str(err)
    assert err.hint


@pytest.mark.parametrize("call", [
    f'geof:sfIntersects(?w, "POINT (1 2)"^^geo:wktLiteral)', 'geof:relate(?w, ?w, "t*f**f***")',
    "geof:distance(?w, ?w, uom:metre)", 'geof:distance(?w, ?w, "http://www.opengis.net/def/uom/OGC/1.0/metre")',
    "geof:buffer(?w, 10, uom:metre)", "geof:buffer(?w, 1.5e1, uom:metre)",
    "geof:transform(?w, <http://www.opengis.net/def/crs/EPSG/0/4326>)", "geof:geometryN(?w, 1)",
    'geof:sfWithin("<gml:Point xmlns:gml=\\"http://www.opengis.net/gml/3.2\\"/>"^^geo:gmlLiteral, ?w)',
    'geof:sfWithin(""^^geo:wktLiteral, ?w)', "geof:relate(?w, ?w, ?pattern)", "geof:sfEquals(STR(?w), ?w)",
    "<http://example.org/unknown>(?w, 1, 2, 3)",
])
def test_good_calls_pass(call):
    parse(PREFIXES + f"SELECT * WHERE {{ ?a geo:asWKT ?w FILTER({call}) }}")


def test_relate_without_pattern_is_caught_before_the_engine(tmp_path):
    (tmp_path / "d.nt").write_text(f'<{EX}g> <http://www.opengis.net/ont/geosparql#asWKT> "POINT (1 2)"^^<{WKT}> .\n',
                                   encoding="utf-8")
    load(tmp_path / "st", [tmp_path / "d.nt"], progress=False)
    with pytest.raises(QueryError) as err:
        Store(tmp_path / "st").query(PREFIXES + "SELECT * WHERE { ?a geo:asWKT ?w . ?b geo:asWKT ?v "
                                                "FILTER(geof:relate(?w, ?v)) }")
    assert "geof:relate at line 6, column " in str(err.value) and "SQL engine" not in str(err.value)


# -- the CLI's --format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,query,message", [
    ("yaml", "SELECT * WHERE { ?s ?p ?o }", "'yaml' is not a known output format"),
    ("ttl", "SELECT * WHERE { ?s ?p ?o }", "not an output format for SELECT / ASK results"),
    ("csv", "CONSTRUCT WHERE { ?s ?p ?o }", "not an output format for CONSTRUCT / DESCRIBE results"),
    ("tsv", "ASK { ?s ?p ?o }", None), ("text/csv", "SELECT * WHERE { ?s ?p ?o }", None),
    ("nt", "DESCRIBE <http://ex.org/x>", None),
])
def test_cli_format_checked_before_the_query_runs(tmp_path, capsys, fmt, query, message):
    from eolinked.cli import main

    missing = tmp_path / "no-store"  # opening it would fail: the format is checked first
    code = main(["query", "--store", str(missing), "--format", fmt, query])
    err = capsys.readouterr().err
    assert code == 1
    if message:
        assert message in err and "hint: choose one of" in err and "no-store" not in err
    else:
        assert "--format" not in err and "no store here" in err


def test_cli_format_with_a_store(tmp_path, capsys):
    from eolinked.cli import main

    (tmp_path / "d.nt").write_text(f"<{EX}a> <{EX}p> <{EX}b> .\n", encoding="utf-8")
    load(tmp_path / "st", [tmp_path / "d.nt"], progress=False)
    assert main(["query", "--store", str(tmp_path / "st"), "--format", "csv", "SELECT ?s WHERE { ?s ?p ?o }"]) == 0
    assert capsys.readouterr().out.splitlines() == ["s", f"{EX}a"]
    assert main(["query", "--store", str(tmp_path / "st"), "--format", "nope", "SELECT ?s WHERE { ?s ?p ?o }"]) == 1
    assert capsys.readouterr().out == ""
    with pytest.raises(EolinkedError):
        from store.cli import _format
        _format("nope", "SELECT * WHERE { ?s ?p ?o }")


# -- constant FILTERs (rdflib drops a filter whose expression is a falsy Python value) -------------------
@pytest.mark.parametrize("constant", ["false", "true", "0", "1", "0.0", '""', '"a"', '""@en', "<http://example.org/x>",
                                      '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>'])
def test_constant_filters_like_pyoxigraph(stores, constant):
    _same(stores, f"ASK {{ FILTER({constant}) }}", nonempty=False)
    _same(stores, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER({constant}) }}")
    _same(stores, f"SELECT ?s WHERE {{ ?s ?p ?o OPTIONAL {{ ?o ?q ?z FILTER({constant}) }} }}")

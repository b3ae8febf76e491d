import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pyarrow as pa
import pytest
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from eolinked import results
from eolinked.errors import QueryError, QuerySyntaxError, QueryTimeout
from eolinked.protocol import serve
from eolinked.results import Result

XSD = "http://www.w3.org/2001/XMLSchema#"
ROWS = {"s": ["<http://ex.org/a>", "_:b0", None],
        "label": ['"chat"@fr', '"quo\\"te, new\\nline é"', f'"7"^^<{XSD}integer>']}
TRIPLES = {"s": ["<http://ex.org/a>", "<http://ex.org/a>"],
           "p": ["<http://ex.org/p>", "<http://www.w3.org/2000/01/rdf-schema#label>"],
           "o": ["_:n1", '"x"@en']}
SELECT = "SELECT ?s ?label WHERE { ?s ?p ?label }"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
pytestmark = [pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning:SPARQLWrapper.Wrapper")]


class Fake:
    """An execute function answering by the query's first keyword; records its calls."""

    def __init__(self):
        self.calls = []
        self.release = threading.Event()

    def __call__(self, query, default_graphs, named_graphs, deadline):
        self.calls.append((query, default_graphs, named_graphs))
        word = query.split()[0].upper()
        if word == "SELECT":
            return Result("select", ["s", "label"], pa.table(ROWS))
        if word == "ASK":
            return Result("ask", boolean=True)
        if word == "CONSTRUCT":
            return Result("graph", ["s", "p", "o"], pa.table(TRIPLES))
        if word == "SLOW":  # runs past the deadline until the test releases it
            self.release.wait(30)
            return Result("ask", boolean=False)
        if word == "STOPS":  # an engine that notices the deadline itself
            raise QueryTimeout("deadline passed")
        if word == "BOOM":
            raise RuntimeError("engine bug")
        if word == "UNSUPPORTED":
            raise QueryError("SERVICE is not supported here")
        raise QuerySyntaxError("unexpected token 'SELEC'", line=2, column=5)


@pytest.fixture(scope="module")
def fake():
    f = Fake()
    yield f
    f.release.set()


@pytest.fixture(scope="module")
def server(fake):
    with serve(fake, timeout=30, quiet=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def cors_server(fake):
    srv = serve(fake, timeout=1.0, cors=True, quiet=True, path="/q")
    yield srv
    srv.close()


def call(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get(srv, params, headers=None):
    return call(srv.url + "?" + urllib.parse.urlencode(params, doseq=True), headers=headers)


def wrapper(srv, query, fmt, method=None):
    sw = SPARQLWrapper(srv.url)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == POSTDIRECTLY:
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    elif method:
        sw.setMethod(method)
    return sw.query().convert()


# --- SPARQLWrapper in every format -----------------------------------------------------------

@pytest.mark.parametrize("method", [None, POST, POSTDIRECTLY])
def test_wrapper_select_json(server, method):
    doc = wrapper(server, SELECT, JSON, method)
    assert doc["head"]["vars"] == ["s", "label"]
    rows = doc["results"]["bindings"]
    assert rows[0]["label"] == {"type": "literal", "value": "chat", "xml:lang": "fr"}
    assert rows[1]["s"] == {"type": "bnode", "value": "b0"}
    assert rows[1]["label"]["value"] == 'quo"te, new\nline é' and "s" not in rows[2]


def test_wrapper_select_xml_csv_tsv(server):
    dom = wrapper(server, SELECT, XML)
    assert [v.getAttribute("name") for v in dom.getElementsByTagName("variable")] == ["s", "label"]
    assert dom.getElementsByTagName("literal")[0].getAttribute("xml:lang") == "fr"
    assert wrapper(server, SELECT, CSV) == results.write(Result("select", ["s", "label"], pa.table(ROWS)), "csv")
    tsv = wrapper(server, SELECT, TSV)
    assert results.read(tsv, "tsv").table.to_pydict() == ROWS


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_wrapper_ask(server, fmt):
    out = wrapper(server, ASK, fmt)
    if fmt == JSON:
        assert out["boolean"] is True
    elif fmt == XML:
        assert out.getElementsByTagName("boolean")[0].firstChild.data == "true"
    else:
        assert results.read(out, {CSV: "csv", TSV: "tsv"}[fmt]).boolean is True


@pytest.mark.parametrize("fmt", [TURTLE, N3, XML, RDFXML, JSONLD, JSON])
def test_wrapper_construct(server, fmt):
    out = wrapper(server, CONSTRUCT, fmt)
    if isinstance(out, bytes):  # Turtle / N3 come back as text
        graph = results.read(out, "ttl")
    else:  # RDF/XML and JSON-LD come back as rdflib graphs
        graph = results.read(out.serialize(format="nt", encoding="utf-8"), "nt")
    assert graph.kind == "graph" and graph.table.num_rows == 2
    assert '"x"@en' in graph.table.column("o").to_pylist()


def test_wrapper_syntax_error(server):
    with pytest.raises(QueryBadFormed, match="line 2, column 5"):
        wrapper(server, "SELEC * WHERE {}", JSON)


# --- raw HTTP ------------------------------------------------------------------------------

def test_get_with_accept_and_graphs(server, fake):
    status, headers, body = get(server, {"query": SELECT, "default-graph-uri": ["http://g/1", "http://g/2"],
                                         "named-graph-uri": "http://g/n"}, {"Accept": "text/csv"})
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert body.decode().startswith("s,label\r\nhttp://ex.org/a,chat\r\n")
    assert fake.calls[-1] == (SELECT, ["http://g/1", "http://g/2"], ["http://g/n"])
    assert headers["Vary"] == "Accept" and "Access-Control-Allow-Origin" not in headers


def test_post_form_and_direct(server, fake):
    form = urllib.parse.urlencode({"query": ASK, "named-graph-uri": "http://g/n"}).encode()
    status, headers, body = call(server.url, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and json.loads(body) == {"head": {}, "boolean": True}
    assert fake.calls[-1] == (ASK, [], ["http://g/n"])
    status, headers, body = call(server.url + "?default-graph-uri=http%3A%2F%2Fg%2F1", CONSTRUCT.encode(),
                                 {"Content-Type": "application/sparql-query; charset=utf-8",
                                  "Accept": "application/n-triples"})
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert body.decode().splitlines()[1] == '<http://ex.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .'
    assert fake.calls[-1] == (CONSTRUCT, ["http://g/1"], [])


def test_default_formats_and_format_parameter(server):
    status, headers, _ = get(server, {"query": SELECT})
    assert headers["Content-Type"].startswith("application/sparql-results+json")
    status, headers, _ = get(server, {"query": CONSTRUCT}, {"Accept": "*/*"})
    assert headers["Content-Type"].startswith("text/turtle")
    status, headers, body = get(server, {"query": SELECT, "format": "tsv"}, {"Accept": "application/json"})
    assert status == 200 and headers["Content-Type"].startswith("text/tab-separated-values") and body.startswith(b"?s\t?label\n")
    status, headers, _ = get(server, {"query": CONSTRUCT, "format": "json"})
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")


@pytest.mark.parametrize("request_args, status, text", [
    (({}, None, None), 400, "missing query"),
    (({"query": [SELECT, ASK]}, None, None), 400, "2 queries"),
    (({"update": "INSERT DATA {}"}, None, None), 400, "read-only"),
    (({"query": "SELEC * {}"}, None, None), 400, "line 2, column 5"),
    (({"query": "UNSUPPORTED"}, None, None), 400, "SERVICE is not supported"),
    (({"query": "BOOM"}, None, None), 500, "engine bug"),
    (({}, b"INSERT DATA {}", {"Content-Type": "application/sparql-update"}), 400, "read-only"),
    (({}, b"query=ASK{}", {"Content-Type": "text/plain"}), 415, "application/sparql-query"),
    (({"query": ASK}, ASK.encode(), {"Content-Type": "application/sparql-query"}), 400, "2 queries"),
    (({}, b"", {"Content-Type": "application/x-www-form-urlencoded"}), 400, "missing query"),
])
def test_errors(server, request_args, status, text):
    params, body, headers = request_args
    url = server.url + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    got, got_headers, answer = call(url, body, headers)
    assert got == status and got_headers["Content-Type"].startswith("text/plain")
    assert text in answer.decode()


def test_wrong_method_and_path(server):
    for method in ("PUT", "DELETE"):
        status, headers, body = call(server.url + "?query=ASK", b"x", method=method)
        assert status == 405 and headers["Allow"] == "GET, POST, OPTIONS"
    status, _, body = call(server.url.replace("/sparql", "/other") + "?query=ASK")
    assert status == 404 and b"/sparql" in body


def test_syntax_error_message(server):
    status, _, body = get(server, {"query": "SELEC * WHERE {}"})
    assert status == 400
    assert body.decode() == "SPARQL syntax error: line 2, column 5: unexpected token 'SELEC'\n"


def test_timeout(cors_server, fake):
    status, headers, body = call(cors_server.url + "?query=SLOW")
    assert status == 503 and headers["Access-Control-Allow-Origin"] == "*"
    assert body.decode().strip() == "query exceeded the timeout of 1 s; raise --timeout or narrow the query"
    status, _, body = call(cors_server.url + "?query=STOPS")
    assert status == 503 and b"raise --timeout" in body
    status, _, _ = call(cors_server.url + "?query=" + urllib.parse.quote(ASK))  # still serving
    assert status == 200


def test_cors(cors_server):
    status, headers, _ = call(cors_server.url, method="OPTIONS",
                              headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    status, headers, _ = call(cors_server.url + "?query=" + urllib.parse.quote(ASK), headers={"Origin": "http://x"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"


def test_request_log_and_close(fake):
    log = io.StringIO()
    srv = serve(fake, log=log)
    try:
        assert srv.url.startswith("http://127.0.0.1:") and srv.url.endswith("/sparql")
        call(srv.url + "?query=" + urllib.parse.quote(ASK))
        call(srv.url)
    finally:
        srv.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and '"GET /sparql?query=ASK' in lines[0] and " 200 " in lines[0]
    assert " 400 " in lines[1]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(srv.url + "?query=ASK", timeout=5)

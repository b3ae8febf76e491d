"""``eolinked serve`` end to end: a real server process on a free loopback port, queried with
SPARQLWrapper in every result format, a malformed query and one past the timeout."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from store import load

pytestmark = [pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning:SPARQLWrapper.Wrapper")]

EX = "http://example.org/"
SELECT = f"SELECT ?s ?name WHERE {{ ?s <{EX}name> ?name }} ORDER BY ?s"
SPATIAL = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#> "
           "PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
           "SELECT ?s WHERE { ?s geo:asWKT ?w FILTER(geof:sfWithin(?w, "
           "\"POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))\"^^geo:wktLiteral)) }")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    lines = [f'<{EX}f{i}> <{EX}name> "feature {i}"@en .' for i in range(3)]
    lines += [f'<{EX}f{i}> <http://www.opengis.net/ont/geosparql#asWKT> "POINT({i * 6 + 1} 1)"'
              f'^^<http://www.opengis.net/ont/geosparql#wktLiteral> .' for i in range(3)]
    lines += [f"<{EX}n{i}> <{EX}next> <{EX}n{i + 1}> ." for i in range(1500)]  # for the slow query
    (root / "data.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    load(root / "store", [root / "data.nt"], progress=False)
    proc = subprocess.Popen([sys.executable, "-m", "eolinked.cli", "serve", "--store", str(root / "store"),
                             "--port", "0", "--timeout", "2"], stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:  # the server names its URL on its first line
            m = re.search(r"(http://127\.0\.0\.1:\d+/sparql)", line)
            if m:
                url = m.group(1)
                break
        assert url, "the server did not start"
        yield url
    finally:
        proc.kill()
        proc.wait(10)


def _wrapper(url, query, fmt):
    w = SPARQLWrapper(url)
    w.setQuery(query)
    w.setReturnFormat(fmt)
    return w.query()


def test_select_in_json(endpoint):
    doc = _wrapper(endpoint, SELECT, JSON).convert()
    assert doc["head"]["vars"] == ["s", "name"]
    rows = [(b["s"]["value"], b["name"]["value"], b["name"]["xml:lang"]) for b in doc["results"]["bindings"]]
    assert rows == [(f"{EX}f{i}", f"feature {i}", "en") for i in range(3)]


def test_select_in_xml(endpoint):
    doc = _wrapper(endpoint, SELECT, XML).convert()
    names = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert names == ["feature 0", "feature 1", "feature 2"]


def test_select_in_csv_and_tsv(endpoint):
    csv_text = _wrapper(endpoint, SELECT, CSV).convert().decode()
    assert csv_text.splitlines()[0] == "s,name" and f"{EX}f1,feature 1" in csv_text
    tsv_text = _wrapper(endpoint, SELECT, TSV).convert().decode()
    assert tsv_text.splitlines()[0] == "?s\t?name" and f'<{EX}f2>\t"feature 2"@en' in tsv_text


def test_spatial_query_and_ask(endpoint):
    doc = _wrapper(endpoint, SPATIAL, JSON).convert()
    assert {b["s"]["value"] for b in doc["results"]["bindings"]} == {f"{EX}f0", f"{EX}f1"}
    assert _wrapper(endpoint, f"ASK {{ <{EX}f1> ?p ?o }}", JSON).convert()["boolean"] is True
    assert _wrapper(endpoint, f"ASK {{ <{EX}nothing> ?p ?o }}", XML).convert() \
        .getElementsByTagName("boolean")[0].firstChild.data == "false"


@pytest.mark.parametrize("fmt", [TURTLE, N3, JSONLD, RDFXML])
def test_construct_in_rdf_formats(endpoint, fmt):
    q = f"CONSTRUCT {{ ?s <{EX}label> ?name }} WHERE {{ ?s <{EX}name> ?name }}"
    graph = _wrapper(endpoint, q, fmt).convert()
    if isinstance(graph, bytes):  # SPARQLWrapper hands Turtle / N3 back as text
        import rdflib

        graph = rdflib.Graph().parse(data=graph.decode(), format="turtle")
    assert len(graph) == 3


def test_malformed_query_is_400_with_the_position(endpoint):
    with pytest.raises(QueryBadFormed) as err:
        _wrapper(endpoint, "SELECT ?s WHERE {\n  ?s ?p \n}", JSON)
    assert re.search(r"line 3, column \d+|line \d+, column \d+", str(err.value))


def test_post_direct_and_content_negotiation(endpoint):
    req = urllib.request.Request(endpoint, data=SELECT.encode(), method="POST",
                                 headers={"Content-Type": "application/sparql-query",
                                          "Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("application/sparql-results+json")
        assert len(json.load(resp)["results"]["bindings"]) == 3


def test_query_past_the_timeout_is_503(endpoint):
    # last in the module: the abandoned query keeps the server busy until the fixture stops it
    slow = (f"SELECT ?a ?c ?e WHERE {{ ?a <{EX}next> ?b . ?c <{EX}next> ?d . ?e <{EX}next> ?f "
            f"FILTER(STR(?b) != STR(?d) && STR(?d) != STR(?f)) }}")
    url = endpoint + "?" + urllib.parse.urlencode({"query": slow})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=60)
    assert err.value.code == 503
    assert "timeout" in err.value.read().decode()

"""GeoTriples rrxf functions and GREL functions, through mappings over a CSV of WKT."""
from __future__ import annotations

import json

import pyoxigraph
import pytest
import shapely

from eolinked.literals import parse_gml_literals
from geotriples import transform

FUNCS = ["asWKT", "asGML", "asGeoJSON", "isSimple", "isEmpty", "is3D", "dimension", "coordinateDimension",
         "spatialDimension", "area", "length", "centroid", "hasSerialization"]

WKT = {
    "p2": "POINT (1 2)",
    "p3": "POINT Z (1 2 3)",
    "pm": "POINT ZM (1 2 3 4)",
    "line": "LINESTRING (0 0, 3 4)",
    "poly": "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0))",
    "cross": "LINESTRING (0 0, 2 2, 0 2, 2 0)",
    "empty": "POLYGON EMPTY",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("fn")
    (d / "g.csv").write_text("id,wkt\n" + "".join(f'{k},"{v}"\n' for k, v in WKT.items()))
    poms = "".join(f"""  rr:predicateObjectMap [ rr:predicate ex:{f} ;
    rr:objectMap [ rrx:function rrxf:{f} ; rrx:argumentMap ( [ rml:reference "wkt" ] ) ] ] ;\n""" for f in FUNCS)
    (d / "m.ttl").write_text(f"""@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix rrx: <http://www.w3.org/ns/r2rml-ext#> .
@prefix rrxf: <http://www.w3.org/ns/r2rml-ext/functions/def/> .
@prefix ex: <http://example.com/fn#> .
<#G> rml:logicalSource [ rml:source "g.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "http://example.com/g/{{id}}" ] ;
{poms.rstrip().rstrip(';')} .
""")
    transform(str(d / "m.ttl"), str(d / "out.nt"))
    out = {}
    for t in pyoxigraph.parse(path=str(d / "out.nt"), format=pyoxigraph.RdfFormat.N_TRIPLES):
        out[(t.subject.value.rsplit("/", 1)[1], t.predicate.value.rsplit("#", 1)[1])] = t.object
    return out


def test_dimensions(results):
    v = lambda k, f: results[(k, f)].value
    assert [v(k, "is3D") for k in ("p2", "p3", "pm")] == ["false", "true", "true"]
    assert [v(k, "coordinateDimension") for k in ("p2", "p3", "pm")] == ["2", "3", "4"]
    assert [v(k, "spatialDimension") for k in ("p2", "p3", "pm")] == ["2", "3", "3"]
    assert [v(k, "dimension") for k in ("p2", "line", "poly")] == ["0", "1", "2"]
    assert results[("p2", "is3D")].datatype.value.endswith("#boolean")
    assert results[("p2", "dimension")].datatype.value.endswith("#integer")


def test_measures_and_predicates(results):
    assert float(results[("poly", "area")].value) == 16.0 and float(results[("line", "length")].value) == 5.0
    assert results[("cross", "isSimple")].value == "false" and results[("line", "isSimple")].value == "true"
    assert results[("empty", "isEmpty")].value == "true" and results[("poly", "isEmpty")].value == "false"
    assert results[("poly", "centroid")].value == "POINT (2 2)"


def test_serialisations(results):
    assert results[("p3", "asWKT")].value == "POINT Z (1 2 3)"
    assert results[("poly", "asWKT")].datatype.value.endswith("#wktLiteral")
    assert results[("poly", "hasSerialization")].value == results[("poly", "asWKT")].value
    gml = results[("poly", "asGML")]
    assert gml.datatype.value.endswith("#gmlLiteral")
    assert shapely.equals(parse_gml_literals([gml.value])[0][0], shapely.from_wkt(WKT["poly"]))
    assert json.loads(results[("line", "asGeoJSON")].value) == {"type": "LineString",
                                                                 "coordinates": [[0.0, 0.0], [3.0, 4.0]]}

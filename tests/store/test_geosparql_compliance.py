"""The GeoSPARQL Compliance Benchmark, one test per query (see tests/store/gsb.py).

The engine is the eolinked store unless ``EOLINKED_CONFORMANCE_ENGINE=oxigraph``.  The queries
run once per module; the weighted score is printed by ``python benchmarks/geosparql_compliance.py``.
"""
from __future__ import annotations

from fractions import Fraction

import pytest

from . import gsb, w3c

# queries the eolinked engine answers wrongly, with the reason (also in the README); strict xfails
KNOWN_FAILURES: dict[str, str] = {}

QUERIES = gsb.queries()
pytestmark = pytest.mark.skipif(not gsb.GSB.is_dir(), reason="../shared/conformance/geosparql is not there (CI has it)")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, gsb.Outcome]:
    engine = w3c.make_engine()
    return {o.query.id: o for o in gsb.run(engine, tmp_path_factory.mktemp("gsb"))}


def _params():
    eolinked = w3c.make_engine_name() == "eolinked"
    for q in QUERIES:
        marks = [pytest.mark.xfail(reason=KNOWN_FAILURES[q.id], strict=True)] \
            if eolinked and q.id in KNOWN_FAILURES else []
        yield pytest.param(q.id, id=q.id, marks=marks)


@pytest.mark.parametrize("query_id", list(_params()))
def test_gsb_query(query_id: str, outcomes):
    o = outcomes[query_id]
    assert o.correct, f"{query_id} ({o.query.requirement}): {o.message}"


def test_gsb_weights_add_up():
    """206 queries over 29 requirements (R17 has none); each requirement is worth 1/30."""
    assert len(QUERIES) == 206
    per: dict[str, Fraction] = {}
    for q in QUERIES:
        per[q.requirement] = per.get(q.requirement, Fraction(0)) + q.weight
    assert set(per) == {f"R{i}" for i in range(1, 31)} - {"R17"}
    assert all(w == Fraction(1, 30) for w in per.values())


def test_gsb_score_rules():
    """All correct scores 100%; none correct 0% (R17 is credited only above zero); one 1/30 query 2 × 1/30."""
    assert gsb.score([gsb.Outcome(q, True) for q in QUERIES])["percent"] == pytest.approx(100.0)
    assert gsb.score([gsb.Outcome(q, False) for q in QUERIES])["percent"] == 0.0
    r1 = [gsb.Outcome(q, q.id == "query-r01") for q in QUERIES]
    assert gsb.score(r1)["percent"] == pytest.approx(100 * 2 / 30)


def test_gsb_literal_normalisation():
    """WKT compares without spaces and case, GeoJSON as JSON, GML as canonical XML."""
    wkt = gsb.GEO + "wktLiteral"
    assert gsb._norm_value(" POINT (1 2)\n", wkt) == gsb._norm_value("point(1 2)", wkt)
    assert gsb._norm_value('{"type": "Point", "coordinates": [1, 2]}', gsb.GEO + "geoJSONLiteral") == \
        gsb._norm_value('{"coordinates":[1,2],"type":"Point"}', gsb.GEO + "geoJSONLiteral")
    gml = gsb.GEO + "gmlLiteral"
    a = '<gml:Point xmlns:gml="http://www.opengis.net/ont/gml" srsName="x"><gml:pos>1 2</gml:pos></gml:Point>'
    b = '<gml:Point srsName="x" xmlns:gml="http://www.opengis.net/ont/gml"><gml:pos>1 2</gml:pos><!-- c --></gml:Point>'
    assert gsb._norm_value(a, gml) == gsb._norm_value(b, gml)

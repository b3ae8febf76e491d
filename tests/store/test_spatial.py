"""store/spatial.py: which conjuncts prune, and the SQL box widening against the core's."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import sedonadb
from rdflib.plugins.sparql import algebra, parser

from eolinked.geosparql.geodesy import WIDEN_SLACK, widen_bounds
from store import spatial


@pytest.mark.parametrize("metres", [10.0, 5_000.0, 800_000.0, 3_000_000.0])
def test_sql_widening_equals_the_core(metres):
    """The per-row SQL margins are widen_bounds' (geographic rows: the same slack)."""
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-170, 160, 200), rng.uniform(-85, 80, 200)
    boxes = np.stack([lon, lat, lon + rng.uniform(0, 5, 200), lat + rng.uniform(0, 4, 200)], axis=1)
    con = sedonadb.connect()
    con.create_data_frame(pa.table({k: boxes[:, i] for i, k in enumerate(("minx", "miny", "maxx", "maxy"))})) \
        .to_view("b", overwrite=True)
    box = spatial.box_sql("minx", "miny", "maxx", "maxy", repr(WIDEN_SLACK), spatial.Candidate("x", metres=metres))
    got = pa.table(con.sql(f"SELECT {', '.join(f'{e} AS c{i}' for i, e in enumerate(box))} FROM b"))
    got = np.stack([got[f"c{i}"].to_numpy() for i in range(4)], axis=1)
    want = widen_bounds(boxes, metres, geographic=True)
    # the SQL box is padded by 1e-9 degrees and does not clip latitudes at the poles
    np.testing.assert_allclose(got[:, [0, 2]], want[:, [0, 2]], atol=1e-8)
    inside = (want[:, 1] > -90) & (want[:, 3] < 90)
    np.testing.assert_allclose(got[inside][:, [1, 3]], want[inside][:, [1, 3]], atol=1e-8)


def _conjunct(text: str):
    q = algebra.translateQuery(parser.parseQuery(
        "PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
        "PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/> "
        f"SELECT * WHERE {{ ?a ?p ?b FILTER({text}) }}"))
    node = q.algebra.p.p
    return node.expr


@pytest.mark.parametrize("text,prunes", [
    ("geof:sfWithin(?a, ?b)", True), ("geof:rcc8ec(?a, ?b)", True), ("geof:sfDisjoint(?a, ?b)", False),
    ("geof:rcc8dc(?a, ?b)", False), ('geof:relate(?a, ?b, "T********")', True),
    ('geof:relate(?a, ?b, "FF*FF****")', False), ("geof:distance(?a, ?b, uom:metre) <= 300", True),
    ("300 > geof:metricDistance(?a, ?b)", True), ("geof:distance(?a, ?b, uom:metre) >= 300", False),
    ("geof:sfWithin(?a, ?a)", False),
])
def test_which_conjuncts_prune(text, prunes):
    assert (spatial.classify(_conjunct(text)) is not None) == prunes

"""The W3C SPARQL 1.0 / 1.1 query test suites, one test per manifest entry (see tests/store/w3c.py).

The engine is the eolinked store unless ``EOLINKED_CONFORMANCE_ENGINE=oxigraph`` (the reference
used to check the harness: its known deviations, w3c.OXIGRAPH_DEVIATIONS, are strict xfails).  For the pass rate and the list of failures run
``python -m tests.store.w3c [--engine oxigraph]``.
"""
from __future__ import annotations

import pytest

from . import w3c

# tests the eolinked engine fails, with the reason (also listed in the README); strict xfails
KNOWN_FAILURES: dict[str, str] = {}

CASES = w3c.cases()


@pytest.fixture(scope="module")
def engine():
    """The engine under test: $EOLINKED_CONFORMANCE_ENGINE (eolinked or oxigraph), default eolinked."""
    return w3c.make_engine()


def _params():
    known = {"eolinked": KNOWN_FAILURES, "oxigraph": w3c.OXIGRAPH_DEVIATIONS}.get(w3c.make_engine_name(), {})
    for case in CASES:
        marks = [pytest.mark.xfail(reason=known[case.id], strict=True)] if case.id in known else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.skipif(not w3c.ROOT.is_dir(), reason="../shared/conformance/sparql11 is not there (CI has it)")
@pytest.mark.parametrize("case", list(_params()))
def test_w3c(case: w3c.Case, engine, tmp_path):
    outcome = w3c.run_case(case, engine, tmp_path)
    if outcome.status == "skip":
        pytest.skip(outcome.message)
    assert outcome.ok, f"{case.name}: {outcome.message}"

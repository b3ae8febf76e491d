"""Evaluation: recall / precision / progressive recall definitions, monotone recall, the table."""
import numpy as np
import pytest

from interlink import evaluate
from interlink.evaluate import metrics


def test_metrics_by_hand():
    truth = np.array([True, False, True, True, False, False])
    m = metrics(truth, 4)  # found(k) = 1, 1, 2, 3; T = 3
    assert m["found"] == 3 and m["recall"] == 1.0 and m["precision"] == 0.75
    assert m["pr"] == pytest.approx((1 + 1 + 2 + 3) / (4 * 3))
    assert m["npr"] == pytest.approx((1 + 1 + 2 + 3) / (1 + 2 + 3 + 3))
    ideal = metrics(np.array([True, True, False, False]), 4)
    assert ideal["npr"] == 1.0 and ideal["pr"] == pytest.approx(1 - (2 - 1) / (2 * 4))
    none = metrics(np.zeros(3, bool), 2)
    assert np.isnan(none["recall"]) and none["precision"] == 0.0


def test_recall_is_monotone_and_full_budget_is_exact(synthetic):
    budgets = ["1%", "5%", "10%", "20%", "50%", "80%", "100%"]
    ev = evaluate(*synthetic, weightings="cf,js,chi2,mbro,isp,chi2*mbro,random", budgets=budgets, processes=1)
    assert ev.true_links > 0 and len(ev.rows) == 7 * len(budgets)
    for scheme in {r["scheme"] for r in ev.rows}:
        rows = [r for r in ev.rows if r["scheme"] == scheme]
        recalls = [r["recall"] for r in rows]
        assert recalls == sorted(recalls) and recalls[-1] == 1.0
        assert rows[-1]["pairs"] == ev.candidates and rows[-1]["found"] == ev.true_links
    table = ev.table()
    assert table.splitlines()[0].startswith("| scheme | budget |") and "| chi2*mbro | 50% |" in table
    assert "candidate pairs" in ev.line()


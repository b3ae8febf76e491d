"""Pair weights: analytic tile statistics equal explicit tile sets; budgets; scheme parsing."""
import numpy as np
import pytest

from eolinked.errors import EolinkedError
from interlink.index import make_grid
from interlink.weighting import (
    PairData,
    budget_pairs,
    order,
    parse_weighting,
    parse_weightings,
    weights,
)


def _tiles(grid, b):
    r = grid.ranges(b[None])[0]
    return {(x, y) for x in range(r[0], r[2] + 1) for y in range(r[1], r[3] + 1)}


@pytest.fixture
def pairs():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 50, (60, 2))
    b = np.column_stack([xy, xy + rng.uniform(0, 8, (60, 2))])
    sb, tb = b[:30], b[30:]
    grid = make_grid(sb, tb)
    i, j = np.repeat(np.arange(30), 30), np.tile(np.arange(30), 30)
    pts_s, pts_t = rng.integers(1, 50, 30), rng.integers(1, 50, 30)
    return grid, PairData(sb[i], tb[j], pts_s[i], pts_t[j], i, j)


def test_tile_schemes_equal_explicit_sets(pairs):
    grid, d = pairs
    cf, js, chi2 = (weights(s, grid, d) for s in ("cf", "js", "chi2"))
    n = grid.cells
    for k in range(0, len(d.i), 37):
        ts, tt = _tiles(grid, d.source_bounds[k]), _tiles(grid, d.target_bounds[k])
        common = len(ts & tt)
        assert cf[k] == common
        assert js[k] == pytest.approx(common / len(ts | tt))
        n11, n12, n21 = common, len(ts) - common, len(tt) - common
        n22 = n - n11 - n12 - n21
        want = n * (n11 * n22 - n12 * n21) ** 2 / ((n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22))
        assert chi2[k] == pytest.approx(want)


def test_mbro_isp_and_products(pairs):
    grid, d = pairs
    k = 5
    s, t = d.source_bounds[k], d.target_bounds[k]
    iw = max(0, min(s[2], t[2]) - max(s[0], t[0]))
    ih = max(0, min(s[3], t[3]) - max(s[1], t[1]))
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])
    assert weights("mbro", grid, d)[k] == pytest.approx(iw * ih / (area(s) + area(t) - iw * ih), abs=1e-6)
    assert weights("isp", grid, d)[k] == pytest.approx(1 / (d.source_points[k] + d.target_points[k]))
    assert np.allclose(weights("chi2*mbro", grid, d), weights("chi2", grid, d) * weights("mbro", grid, d))


def test_mbro_of_identical_points_is_one():
    b = np.array([[1.0, 1.0, 1.0, 1.0]])
    grid = make_grid(np.array([[0, 0, 2, 2.0]]), b)
    d = PairData(b, b, np.array([1]), np.array([1]), np.array([0]), np.array([0]))
    assert weights("mbro", grid, d)[0] == pytest.approx(1.0)


def test_order_is_descending_with_index_ties():
    w = np.array([1.0, 3.0, 3.0, 2.0])
    i, j = np.array([0, 2, 1, 0]), np.array([0, 0, 5, 1])
    assert order(w, i, j).tolist() == [2, 1, 3, 0]


def test_budget_semantics():
    assert budget_pairs("10%", 95) == 10 and budget_pairs("100%", 95) == 95 and budget_pairs("0%", 95) == 0
    assert budget_pairs(50, 30) == 30 and budget_pairs("7", 30) == 7
    for bad in ("-1", "150%", "ten"):
        with pytest.raises(EolinkedError, match="invalid budget"):
            budget_pairs(bad, 10)


def test_scheme_names():
    assert parse_weighting("X2*MBRO") == ("chi2", "mbro")
    assert parse_weightings("cf, js,chi2*mbro") == ["cf", "js", "chi2*mbro"]
    with pytest.raises(EolinkedError, match="unknown weighting scheme 'jaccard'") as exc:
        parse_weightings("cf,jaccard")
    assert "chi2*mbro" in str(exc.value)

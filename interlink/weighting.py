"""Pair weighting for progressive linking (JedAI-spatial schemes), vectorised over candidate pairs.

Tile sets are the grid tiles an MBR covers; they are rectangles of tiles, so the common
tiles of a pair are computed from the two tile ranges without enumerating tiles.

- ``cf``: common tiles |Ts ∩ Tt|
- ``js``: Jaccard similarity |Ts ∩ Tt| / |Ts ∪ Tt|
- ``chi2``: Pearson chi-square of the 2x2 tile co-occurrence table over the N tiles of the
  grid (n11 = common, n12 = |Ts| - n11, n21 = |Tt| - n11, n22 = N - n11 - n12 - n21)
- ``mbro``: area(MBRs ∩ MBRt) / area(MBRs ∪ MBRt); MBR sides are padded to 1e-6 tile so
  that points and axis-parallel lines get a defined overlap
- ``isp``: 1 / (points of s + points of t)
- ``random``: a seeded random order (a baseline for evaluation)

A scheme may be a product of these, e.g. ``chi2*mbro``. Pairs are verified in descending
weight, ties broken by source then target index, so the order is global and deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eolinked.errors import EolinkedError

from .index import Grid, tile_counts

SCHEMES = ("cf", "js", "chi2", "mbro", "isp", "random")
_ALIASES = {"x2": "chi2", "chi-square": "chi2", "chisquare": "chi2", "chi": "chi2"}


def parse_weighting(text: str) -> tuple[str, ...]:
    """The factors of one scheme: ``"chi2*mbro"`` -> ``("chi2", "mbro")``."""
    factors = []
    for raw in text.split("*"):
        name = _ALIASES.get(raw.strip().lower(), raw.strip().lower())
        if name not in SCHEMES:
            raise EolinkedError(f"unknown weighting scheme {raw.strip()!r} in {text!r}",
                                hint="choose from " + ", ".join(SCHEMES) + ", or a product such as chi2*mbro")
        factors.append(name)
    return tuple(factors)


def parse_weightings(text: str) -> list[str]:
    """A comma-separated list of schemes, each checked and written canonically."""
    out = ["*".join(parse_weighting(s)) for s in text.split(",") if s.strip()]
    if not out:
        raise EolinkedError("no weighting scheme given", hint="e.g. --weighting chi2*mbro")
    return list(dict.fromkeys(out))


@dataclass
class PairData:
    """What weighting needs about each candidate pair (aligned arrays)."""
    source_bounds: np.ndarray
    target_bounds: np.ndarray
    source_points: np.ndarray
    target_points: np.ndarray
    i: np.ndarray
    j: np.ndarray


def _factor(name: str, grid: Grid, d: PairData) -> np.ndarray:
    sb, tb = d.source_bounds, d.target_bounds
    if name == "isp":
        return 1.0 / (d.source_points + d.target_points).astype(float)
    if name == "random":
        return np.random.default_rng(42).random(len(sb))
    if name == "mbro":
        pad = 1e-6 * min(grid.w, grid.h)
        sb, tb = _pad(sb, pad), _pad(tb, pad)
        iw = np.minimum(sb[:, 2], tb[:, 2]) - np.maximum(sb[:, 0], tb[:, 0])
        ih = np.minimum(sb[:, 3], tb[:, 3]) - np.maximum(sb[:, 1], tb[:, 1])
        inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
        union = _area(sb) + _area(tb) - inter
        return np.divide(inter, union, out=np.zeros(len(sb)), where=union > 0)
    rs, rt = grid.ranges(sb), grid.ranges(tb)
    cx = np.minimum(rs[:, 2], rt[:, 2]) - np.maximum(rs[:, 0], rt[:, 0]) + 1
    cy = np.minimum(rs[:, 3], rt[:, 3]) - np.maximum(rs[:, 1], rt[:, 1]) + 1
    common = (np.clip(cx, 0, None) * np.clip(cy, 0, None)).astype(float)
    ns, nt = tile_counts(rs).astype(float), tile_counts(rt).astype(float)
    if name == "cf":
        return common
    if name == "js":
        return common / (ns + nt - common)
    n = float(grid.cells)
    n11, n12, n21 = common, ns - common, nt - common
    n22 = n - n11 - n12 - n21
    den = (n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22)
    num = n * (n11 * n22 - n12 * n21) ** 2
    return np.divide(num, den, out=np.zeros(len(sb)), where=den > 0)


def _pad(b: np.ndarray, pad: float) -> np.ndarray:
    out = b.copy()
    for lo, hi in ((0, 2), (1, 3)):
        short = (out[:, hi] - out[:, lo]) < pad
        mid = (out[short, hi] + out[short, lo]) / 2
        out[short, lo], out[short, hi] = mid - pad / 2, mid + pad / 2
    return out


def _area(b: np.ndarray) -> np.ndarray:
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def weights(scheme: str, grid: Grid, data: PairData) -> np.ndarray:
    """Weight of every candidate pair under ``scheme`` (a name or a product ``a*b``)."""
    out = np.ones(len(data.i))
    for name in parse_weighting(scheme):
        out *= _factor(name, grid, data)
    return out


def order(w: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Verification order: descending weight, ties by source then target index."""
    return np.lexsort((j, i, -w))


def budget_pairs(budget, candidates: int) -> int:
    """Pairs to verify: an int (or "500") is a count, "10%" a share of the candidates (rounded up);
    both are capped at the number of candidates."""
    text = str(budget).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 <= share <= 100:
                raise ValueError
            return min(candidates, int(np.ceil(candidates * share / 100 - 1e-9)))
        count = int(text)
        if count < 0:
            raise ValueError
        return min(candidates, count)
    except ValueError:
        raise EolinkedError(f"invalid budget {text!r}",
                            hint="give a number of pairs (--budget 5000) or a share of the candidate pairs "
                                 "(--budget 10%)") from None


def parse_budgets(text: str) -> list[str]:
    out = [b.strip() for b in str(text).split(",") if b.strip()]
    for b in out:
        budget_pairs(b, 0)
    if not out:
        raise EolinkedError("no budget given", hint="e.g. --budget 10% or --budget 5%,10%,20%,50%")
    return out

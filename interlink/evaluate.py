"""Evaluation of progressive linking against the exact result.

All candidate pairs are verified once; a pair is a *true link* when at least one asked
relation holds (or, in distance mode, it lies within the distance). For a scheme, the
candidates are put in its verification order and, for a budget of B pairs (B >= 1), with
found(k) the true links among the first k pairs and T the number of true links:

- recall = found(B) / T
- precision = found(B) / B
- progressive recall PR = sum_{k=1..B} found(k) / (B * T): the area under the recall curve
  over the B verified pairs, normalised by the budget (1 would need every true link
  found at the very first pair; an order that puts all true links first reaches
  PR = 1 - (T - 1) / (2B) when T <= B)
- normalised progressive recall nPR = sum_{k=1..B} found(k) / sum_{k=1..B} min(k, T): the
  same area divided by that of the ideal order (1 for an ideal order), as in JedAI-spatial

With no true link at all, recall, PR and nPR are undefined (NaN).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import weighting as wt
from .readers import Features, read_features
from .runner import candidates, prepare, verify

DEFAULT_SCHEMES = ("cf", "js", "chi2", "mbro", "isp", "chi2*mbro")
DEFAULT_BUDGETS = ("5%", "10%", "20%", "50%")


def metrics(true_in_order: np.ndarray, budget: int) -> dict:
    """recall, precision, pr and npr of the first ``budget`` pairs of an order (see module doc)."""
    t = int(true_in_order.sum())
    found = np.cumsum(true_in_order[:budget], dtype=np.int64)
    got = int(found[-1]) if budget else 0
    ideal = np.minimum(np.arange(1, budget + 1), t).sum()
    nan = float("nan")
    return {"pairs": budget, "found": got, "recall": got / t if t else nan,
            "precision": got / budget if budget else nan,
            "pr": found.sum() / (budget * t) if t and budget else nan,
            "npr": found.sum() / ideal if ideal else nan}


@dataclass
class Evaluation:
    candidates: int
    true_links: int
    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The rows as a markdown table."""
        head = "| scheme | budget | pairs | links found | recall | precision | PR | nPR |\n|---|---:|---:|---:|---:|---:|---:|---:|"
        body = [f"| {r['scheme']} | {r['budget']} | {r['pairs']:,} | {r['found']:,} | {_f(r['recall'])} | "
                f"{_f(r['precision'])} | {_f(r['pr'])} | {_f(r['npr'])} |" for r in self.rows]
        return "\n".join([head, *body])

    def line(self) -> str:
        return (f"evaluate: {self.candidates:,} candidate pairs, {self.true_links:,} true links, "
                f"{len(self.rows)} scheme x budget runs, {self.seconds:.2f} s")


def _f(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.3f}"


def evaluate(source, target, weightings=DEFAULT_SCHEMES, budgets=DEFAULT_BUDGETS, *, source_id=None,
             target_id=None, source_layer=None, target_layer=None, relations="all", within_distance=None,
             index: str = "grid", crs=None, processes: int | None = None, progress: bool | None = None,
             batch_size: int = 20_000) -> Evaluation:
    """Recall, precision and progressive recall of each weighting scheme at each budget."""
    start = time.perf_counter()
    schemes = wt.parse_weightings(",".join(weightings) if not isinstance(weightings, str) else weightings)
    budgets = wt.parse_budgets(",".join(budgets) if not isinstance(budgets, str) else budgets)
    src = source if isinstance(source, Features) else read_features(source, source_id, source_layer, "--source-id")
    tgt = target if isinstance(target, Features) else read_features(target, target_id, target_layer, "--target-id")
    job = prepare(src, tgt, relations=relations, within_distance=within_distance, index=index, crs=crs,
                  batch_size=batch_size)
    processes = processes or os.cpu_count() or 1
    i, j = candidates(job, processes, progress)
    truth = verify(job, i, j, processes, progress).linked
    out = Evaluation(len(i), int(truth.sum()), notes=job.notes)
    for scheme in schemes:
        ordered = truth[wt.order(job.weights(scheme, i, j), i, j)]
        for b in budgets:
            out.rows.append({"scheme": scheme, "budget": b, **metrics(ordered, wt.budget_pairs(b, len(i)))})
    out.seconds = time.perf_counter() - start
    return out

"""``selection.strategy=correct`` (every correct sample) and ``all`` (every sample; with
``balance_correct``, alternating correct and incorrect: critique data), at most
``max_per_problem`` of them in input order."""
from __future__ import annotations

from typing import Any

from reasonkit.selection.strategies import STRATEGIES, Sample, Strategy, correct


def pick_correct(cfg: Any, group: list[Sample], stats: dict[str, Any]) -> list[Sample]:
    cands = [s for s in group if correct(s, "correct")]
    stats["dropped_incorrect"] += len(group) - len(cands)
    return _cap(cfg, cands, stats)


def pick_all(cfg: Any, group: list[Sample], stats: dict[str, Any]) -> list[Sample]:
    if cfg.balance_correct:
        right = [s for s in group if correct(s, "balance_correct")]
        wrong = [s for s in group if not s["correct"]]
        cands = [x for pair in zip(right, wrong) for x in pair]
        cands += right[len(wrong):] + wrong[len(right):]
    else:
        cands = group
    return _cap(cfg, cands, stats)


def _cap(cfg: Any, cands: list[Sample], stats: dict[str, Any]) -> list[Sample]:
    k = cfg.max_per_problem
    kept = cands if k is None else cands[:k]
    stats["dropped_over_max_per_problem"] += len(cands) - len(kept)
    return kept


STRATEGIES.register("correct")(Strategy(pick=pick_correct))
STRATEGIES.register("all")(Strategy(pick=pick_all))

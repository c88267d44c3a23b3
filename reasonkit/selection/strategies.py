"""Selection strategies over streams of judged samples grouped by problem (minimal set)."""
from __future__ import annotations

from itertools import groupby
from typing import Any, Iterable, Iterator


def by_problem(samples: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for _, group in groupby(samples, key=lambda s: s["problem_id"]):
        yield list(group)


def select(cfg, samples: Iterable[dict[str, Any]], stats: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Yield kept samples; ``stats`` counts what each rule kept and dropped."""
    if cfg.strategy != "correct":
        raise ValueError(f"selection.strategy: unknown strategy {cfg.strategy!r}")
    for key in ("seen", "kept", "dropped_incorrect", "dropped_over_max_per_problem"):
        stats.setdefault(key, 0)
    for group in by_problem(samples):
        kept = 0
        for s in group:
            stats["seen"] += 1
            if not s.get("correct"):
                stats["dropped_incorrect"] += 1
            elif cfg.max_per_problem is not None and kept >= cfg.max_per_problem:
                stats["dropped_over_max_per_problem"] += 1
            else:
                kept += 1
                stats["kept"] += 1
                yield s

"""``selection.subsample``: keep a seeded random subset of what the selection kept (dataset-size
rows of a study: train on 1k, 2k, … of the selected problems without regenerating anything).

Why two passes over the selection rather than a reservoir: the selection is deterministic, so
counting first and then keeping chosen ordinals streams in constant memory (the chosen ordinals
only) and keeps the selection's order, which the format stage's per-problem cap relies on.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

SUBSAMPLE_VERSION = "1"
UNITS = ("problems", "rows")


def check(cfg: Any) -> None:
    if cfg.subsample is not None and cfg.subsample < 1:
        raise ValueError(f"selection.subsample: expected a count ≥ 1 or null, got {cfg.subsample!r}")
    if cfg.subsample_unit not in UNITS:
        raise ValueError(f"selection.subsample_unit: expected {' | '.join(UNITS)}, got {cfg.subsample_unit!r}")


def _unit_key(rec: dict[str, Any], unit: str) -> Any:
    return rec.get("problem_id", rec.get("id")) if unit == "problems" else rec.get("id")


def _ordinals(records: Iterable[dict[str, Any]], unit: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(ordinal of the record's unit, record); a problem's records are consecutive (select's order)."""
    idx, prev = -1, object()
    for r in records:
        key = _unit_key(r, unit)
        if unit == "rows" or key != prev:
            idx += 1
            prev = key
        yield idx, r


def subsample(cfg: Any, selected: Callable[[], Iterable[dict[str, Any]]], stats: dict[str, Any]
              ) -> Iterator[dict[str, Any]]:
    """The records of ``cfg.subsample`` units drawn uniformly (seed ``cfg.seed``) from the
    ``selected()`` stream; ``selected`` is called twice and must yield the same stream both times."""
    n = 0
    for i, _ in _ordinals(selected(), cfg.subsample_unit):
        n = i + 1
    k = min(cfg.subsample, n)
    chosen = set(random.Random(f"subsample:{cfg.seed}").sample(range(n), k))
    stats.update(subsample_unit=cfg.subsample_unit, subsample_of=n, subsample_kept=k,
                 subsample_short=cfg.subsample > n)
    kept = 0
    for i, r in _ordinals(selected(), cfg.subsample_unit):
        if i in chosen:
            kept += 1
            yield r
    stats["kept_after_subsample"] = kept

"""``selection.strategy=shortest_correct | longest_correct``: the shortest / longest correct
samples of a problem (``selection.length_by``: completion tokens or characters)."""
from __future__ import annotations

from typing import Any

from reasonkit.selection.strategies import (
    STRATEGIES,
    Sample,
    Strategy,
    length_key,
    pick_ranked,
)


def _by_length(longest: bool):
    def choose(cfg: Any, group: list[Sample], cands: list[Sample], k: int) -> list[Sample]:
        length = length_key(group, cfg.length_by)
        order = sorted(range(len(cands)), key=lambda i: (length(cands[i]), i), reverse=longest)
        return [cands[i] for i in order[:k]]
    return lambda cfg, group, stats: pick_ranked(cfg, group, stats, True, choose)


STRATEGIES.register("shortest_correct")(Strategy(pick=_by_length(False)))
STRATEGIES.register("longest_correct")(Strategy(pick=_by_length(True)))

"""``selection.strategy=llh_highest | llh_lowest``: the samples with the highest / lowest
log-likelihood under the scoring model (``selection.llh_by``: sum or length-normalised mean, from
``stage=score``), and ``llh_random``: the same number drawn at random, the matched control."""
from __future__ import annotations

import hashlib
import random
from typing import Any

from reasonkit.selection.strategies import STRATEGIES, Sample, Strategy, pick_ranked


def score(s: Sample, key: str) -> float:
    sc = s.get("score")
    if not isinstance(sc, dict) or not isinstance(sc.get(key), (int, float)):
        raise ValueError(f"sample {s.get('id')}: no '{key}' score (run stage=score with the same "
                         "judged samples first)")
    return float(sc[key])


def problem_rng(seed: int, problem_id: str) -> random.Random:
    """Per-problem RNG: the choice does not depend on order, sharding or other problems."""
    h = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return random.Random(int.from_bytes(h[:8], "little"))


def _by_score(sign: float):
    def choose(cfg: Any, group: list[Sample], cands: list[Sample], k: int) -> list[Sample]:
        key = f"llh_{cfg.llh_by}"
        order = sorted(range(len(cands)), key=lambda i: (sign * score(cands[i], key), i))  # ties: earlier first
        return [cands[i] for i in order[:k]]
    return choose


def _at_random(cfg: Any, group: list[Sample], cands: list[Sample], k: int) -> list[Sample]:
    return problem_rng(cfg.seed, group[0]["problem_id"]).sample(cands, min(k, len(cands)))


def _ranked(choose):
    return lambda cfg, group, stats: pick_ranked(cfg, group, stats, False, choose)


STRATEGIES.register("llh_highest")(Strategy(pick=_ranked(_by_score(-1.0)), scores=True))
STRATEGIES.register("llh_lowest")(Strategy(pick=_ranked(_by_score(1.0)), scores=True))
STRATEGIES.register("llh_random")(Strategy(pick=_ranked(_at_random)))

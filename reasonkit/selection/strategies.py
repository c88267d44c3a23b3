"""The selection pipeline over streams of judged samples grouped by problem, and the registry of
its strategies.

``select`` is a pure function of (config, sample stream, optional scores): samples of one problem
arrive consecutively; each problem passes the problem filters, then the sample filters, then the
configured strategy picks what to keep (or which preference pairs to build). ``stats`` counts, per
rule, how many problems and samples it dropped, so the manifest says what was kept and why; for
sample strategies ``seen == kept + Σ dropped_*``.

``selection.strategy=<value>`` → ``STRATEGIES`` → the module named in its table: ``keep.py``
(correct, all), ``llh.py`` (llh_highest, llh_lowest, llh_random), ``length.py``
(shortest_correct, longest_correct), ``pairs.py`` (preference pairs).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from reasonkit.registry import Registry
from reasonkit.selection.config import PAIR_KINDS
from reasonkit.records import SeenIds
from reasonkit.selection.filters import Decontaminator, exact_key, jaccard, shingles

# The problem filters, sample filters and every strategy's choice; bump on any change to what a
# selection keeps (the select stage hashes it).
STRATEGIES_VERSION = "1"

Sample = dict[str, Any]


@dataclass(frozen=True)
class Strategy:
    """One ``selection.strategy``: ``pick(cfg, group, stats)`` chooses what one problem keeps
    (samples, or pair records) from its filtered samples and counts what it dropped in ``stats``;
    ``scores``: it ranks by the score stage's log-likelihoods; ``counters``: the per-config stats
    keys it adds (so a manifest lists a zero rather than omitting the key)."""

    pick: Callable[[Any, list[Sample], dict[str, Any]], list[Sample]]
    scores: bool = False
    counters: Callable[[Any], list[str]] = lambda cfg: []


# selection.strategy=<value> → the module that registers it
STRATEGIES: Registry[Strategy] = Registry("selection.strategy", "reasonkit.selection", modules={
    "correct": "keep", "all": "keep", "llh_highest": "llh", "llh_lowest": "llh", "llh_random": "llh",
    "shortest_correct": "length", "longest_correct": "length", "pairs": "pairs"})


def strategy_of(cfg: Any) -> Strategy:
    """The registered strategy, or a ValueError naming ``selection.strategy`` and the known values."""
    try:
        return STRATEGIES.get(cfg.strategy)
    except KeyError as e:
        raise ValueError(e.args[0]) from None


def by_problem(samples: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for _, group in groupby(samples, key=lambda s: s["problem_id"]):
        yield list(group)


def with_scores(samples: Iterable[dict[str, Any]], scores: Iterable[dict[str, Any]]
                ) -> Iterator[dict[str, Any]]:
    """Attach each sample's score record (``stage=score`` writes them in the judge artifact's
    order), walking both streams side by side: no id → score table for the whole artifact."""
    it = iter(scores)
    for n, s in enumerate(samples, 1):
        r = next(it, None)
        if r is None or r.get("id") != s["id"]:
            raise ValueError(f"score artifact: record #{n} is {None if r is None else r.get('id')!r}, expected "
                             f"sample {s['id']!r}; the score artifact must follow the judge artifact's order "
                             "(recompute it with stage=score)")
        yield {**s, "score": {k: v for k, v in r.items() if k != "id"}}
    extra = next(it, None)
    if extra is not None:
        raise ValueError(f"score artifact: record {extra.get('id')!r} has no judged sample")


def needs_scores(cfg: Any) -> bool:
    return strategy_of(cfg).scores


def check_config(cfg: Any) -> None:
    """Refuse a bad option before any stage works (called by the stage's ``validate``)."""
    strategy_of(cfg)
    if cfg.dedup not in ("none", "exact", "near"):
        raise ValueError(f"selection.dedup: expected none|exact|near, got {cfg.dedup!r}")
    if cfg.llh_by not in ("sum", "mean"):
        raise ValueError(f"selection.llh_by: expected sum|mean, got {cfg.llh_by!r}")
    if cfg.length_by not in ("tokens", "chars"):
        raise ValueError(f"selection.length_by: expected tokens|chars, got {cfg.length_by!r}")
    bad = [p for p in cfg.pairs if p not in PAIR_KINDS]
    if bad:
        raise ValueError(f"selection.pairs: unknown pair kinds {bad}; expected {list(PAIR_KINDS)}")
    if cfg.max_per_problem is not None and cfg.max_per_problem < 1:
        raise ValueError("selection.max_per_problem must be ≥ 1 or null")
    lo, hi = cfg.pass_rate_min, cfg.pass_rate_max
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError(f"selection.pass_rate_min ({lo}) must be < pass_rate_max ({hi})")


def correct(s: dict[str, Any], rule: str) -> bool:
    c = s.get("correct")
    if not isinstance(c, bool):
        raise ValueError(f"sample {s.get('id')}: field 'correct': expected true/false for "
                         f"selection rule '{rule}', got {c!r} (run stage=judge first)")
    return c


def _difficulty(s: dict[str, Any], key: str) -> Any:
    if key in s:
        return s[key]
    return (s.get("meta") or {}).get(key)


def _problem_drop(cfg: Any, group: list[dict[str, Any]], decon: Decontaminator | None) -> str | None:
    """Name of the first problem filter that drops this problem, or None."""
    if decon is not None and decon.hit(group[0]["prompt"]):
        return "decontam"
    if cfg.difficulty_keep:
        d = _difficulty(group[0], cfg.difficulty_field)
        if d is None or str(d) not in {str(x) for x in cfg.difficulty_keep}:
            return "difficulty"
    if cfg.pass_rate_min is not None or cfg.pass_rate_max is not None:
        p = sum(correct(s, "pass_rate") for s in group) / len(group)
        if (cfg.pass_rate_min is not None and not p > cfg.pass_rate_min) or (
                cfg.pass_rate_max is not None and not p < cfg.pass_rate_max):
            return "pass_rate"
    if cfg.consistency:
        per_model: dict[str, list[bool]] = {}
        for s in group:
            per_model.setdefault(str(s.get("model")), []).append(correct(s, "consistency"))
        if not any(0 < sum(v) < len(v) for v in per_model.values()):
            return "consistency"
    return None


def length_key(group: list[dict[str, Any]], by: str):
    """Sample length for the length rules: completion tokens when every sample has them, else chars."""
    if by == "tokens" and all(isinstance(s.get("n_completion_tokens"), int) for s in group):
        return lambda s: s["n_completion_tokens"]
    return lambda s: len(s["response"])


def pick_ranked(cfg: Any, group: list[Sample], stats: dict[str, Any], correct_only: bool,
                choose: Callable[[Any, list[Sample], list[Sample], int], list[Sample]]) -> list[Sample]:
    """The shared frame of the ranking strategies: at most ``max_per_problem`` (default 1) of the
    candidates (the correct samples when ``correct_only`` or ``require_correct``), chosen by
    ``choose(cfg, group, candidates, k)``."""
    k = 1 if cfg.max_per_problem is None else cfg.max_per_problem
    if correct_only or cfg.require_correct:
        cands = [s for s in group if correct(s, cfg.strategy)]
        stats["dropped_incorrect"] += len(group) - len(cands)
    else:
        cands = list(group)
    chosen = choose(cfg, group, cands, k)
    stats["dropped_not_chosen"] += len(cands) - len(chosen)
    return chosen


def select(cfg: Any, samples: Iterable[dict[str, Any]], stats: dict[str, Any],
           scores: Mapping[str, Mapping[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the kept samples (or, with ``strategy=pairs``, preference-pair records).

    ``scores`` maps sample id → score fields (``llh_sum``, ``llh_mean``, …); kept samples carry
    theirs under ``score``. ``stats`` is filled as the stream is consumed.
    """
    check_config(cfg)
    strategy = strategy_of(cfg)
    decon = (Decontaminator(cfg.decontam_paths, cfg.decontam_field, cfg.decontam_ngram)
             if cfg.decontam_paths else None)
    counters = ["problems_seen", "seen", "kept", "problems_kept", "dropped_incorrect",
                "dropped_over_max_per_problem", "dropped_not_chosen", "dropped_dup_exact",
                "dropped_dup_near"]
    for rule in ("decontam", "difficulty", "pass_rate", "consistency"):
        counters += [f"problems_dropped_{rule}", f"dropped_{rule}"]
    counters += strategy.counters(cfg)
    for key in counters:
        stats.setdefault(key, 0)
    if decon is not None:
        stats["decontam_eval_items"] = decon.n_items
    exact_seen: set[bytes] = set()
    done = SeenIds()  # ~8 bytes per problem, not a set of id strings
    for group in by_problem(samples):
        pid = group[0]["problem_id"]
        if pid in done:
            raise ValueError(f"sample {group[0]['id']}: problem {pid!r} appears again after other "
                             "problems; samples of one problem must be consecutive")
        done.add(pid)
        stats["problems_seen"] += 1
        stats["seen"] += len(group)
        reason = _problem_drop(cfg, group, decon)
        if reason:
            stats[f"problems_dropped_{reason}"] += 1
            stats[f"dropped_{reason}"] += len(group)
            continue
        if cfg.dedup == "exact":
            fresh = []
            for s in group:
                key = exact_key(s["prompt"], s["response"])
                if key not in exact_seen:
                    exact_seen.add(key)
                    fresh.append(s)
            stats["dropped_dup_exact"] += len(group) - len(fresh)
            group = fresh
        elif cfg.dedup == "near":
            fresh, sh = [], []
            for s in group:
                x = shingles(s["response"])
                if all(jaccard(x, y) < cfg.near_dup_threshold for y in sh):
                    fresh.append(s)
                    sh.append(x)
            stats["dropped_dup_near"] += len(group) - len(fresh)
            group = fresh
        if scores is not None:
            group = [{**s, "score": dict(scores[s["id"]])} if s["id"] in scores else s for s in group]
        kept = strategy.pick(cfg, group, stats)
        if kept:
            stats["problems_kept"] += 1
        stats["kept"] += len(kept)
        yield from kept

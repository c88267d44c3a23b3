"""Eval metrics against brute force: maj@k over every k-subset (exact expectation), pass@k through
``summarize``, the bootstrap interval and per-subject breakdowns."""
from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from reasonkit.evaluation.metrics import (
    bootstrap_ci,
    breakdown,
    maj_at_k_expected,
    summarize,
)


def brute_maj(answers: list[str | None], correct: dict[str, bool], k: int) -> float:
    """Mean over all k-subsets of the majority vote's correctness; a tie counts as the share of
    tied answers that are correct (a random tie-break); no answer in the subset is wrong."""
    total, count = Fraction(0), 0
    for sub in itertools.combinations(range(len(answers)), k):
        votes: dict[str, int] = {}
        for i in sub:
            if answers[i] is not None:
                votes[answers[i]] = votes.get(answers[i], 0) + 1
        count += 1
        if votes:
            top = max(votes.values())
            tied = [a for a, v in votes.items() if v == top]
            total += Fraction(sum(correct[a] for a in tied), len(tied))
    return float(total / count)


def brute_pass(verdicts: list[bool], k: int) -> float:
    subs = list(itertools.combinations(verdicts, k))
    return sum(any(s) for s in subs) / len(subs)


@pytest.mark.parametrize("seed", range(40))
def test_maj_and_pass_at_k_match_enumeration(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    labels = ["7", "8", "9", "10"][: rng.randint(1, 4)]
    right = {a: a == "7" for a in labels}
    answers = [rng.choice(labels + [None]) for _ in range(n)]
    groups = {"p": [(a, bool(a is not None and right[a])) for a in answers]}
    ks = list(range(1, n + 1))
    out = summarize(groups, ks)
    for k in ks:
        assert out[f"maj@{k}"] == pytest.approx(brute_maj(answers, right, k), abs=1e-12), k
        assert out[f"pass@{k}"] == pytest.approx(brute_pass([c for _, c in groups["p"]], k)), k


def test_maj_is_order_free_and_full_k_is_the_plain_vote():
    # 3 × "5" (wrong), 2 × "6" (right): the plain vote over all five is wrong whatever the order
    assert maj_at_k_expected([3, 2], [False, True], 5, 5) == 0.0
    assert maj_at_k_expected([2, 3], [True, False], 5, 5) == 0.0
    # k = 1 is the chance that one random sample is right
    assert maj_at_k_expected([3, 2], [False, True], 6, 1) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="maj@4 needs at least 4"):
        maj_at_k_expected([1], [True], 3, 4)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    vals = [1.0] * 12 + [0.0] * 18
    lo, hi = bootstrap_ci(vals, 2000, seed=3)
    assert (lo, hi) == bootstrap_ci(vals, 2000, seed=3)
    assert lo < 0.4 < hi and 0.15 < lo and hi < 0.65
    assert bootstrap_ci([1.0] * 5, 100) == (1.0, 1.0)


def test_breakdown_by_subject_and_level():
    groups = {"a": [("1", True), ("2", False)], "b": [("1", True), ("1", True)], "c": [("3", False), ("3", False)]}
    meta = {"a": {"subject": "Algebra", "level": "1"}, "b": {"subject": "Algebra", "level": "5"},
            "c": {"subject": "Geometry", "level": "5"}}
    out = breakdown(groups, meta, ["subject", "level"])
    assert out["subject"]["Algebra"]["avg"] == 0.75 and out["subject"]["Algebra"]["problems"] == 2
    assert out["subject"]["Geometry"] == {"problems": 1, "avg": 0.0, "se": 0.0}
    assert out["level"]["5"]["avg"] == 0.5 and out["level"]["1"]["avg"] == 0.5

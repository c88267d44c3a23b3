"""Benchmark metrics from per-problem sample verdicts: unbiased pass@k, avg@n ± s.e., maj@k."""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), valid for any k ≤ n."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean across problems."""
    m = len(values)
    if m == 0:
        return 0.0, 0.0
    mu = sum(values) / m
    if m == 1:
        return mu, 0.0
    var = sum((v - mu) ** 2 for v in values) / (m - 1)
    return mu, math.sqrt(var / m)


def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int, key=lambda a: a) -> float:
    """1 if the most common (by ``key``; e.g. an equivalence-cluster id) of the first k extracted
    answers is a correct one. Ties go to the answer seen first; None answers never win."""
    first = [(key(a), c) for a, c in zip(answers[:k], correct[:k]) if a is not None]
    if not first:
        return 0.0
    counts = Counter(a for a, _ in first)
    best = max(counts, key=lambda a: (counts[a], -[x for x, _ in first].index(a)))
    return float(any(c for a, c in first if a == best))


def summarize(groups: dict[str, list[tuple[str | None, bool]]], ks: Sequence[int]) -> dict[str, float]:
    """groups: problem id → [(extracted, correct)] in sample order."""
    out: dict[str, float] = {}
    per = [[c for _, c in g] for g in groups.values()]
    avg, se = mean_se([sum(c) / len(c) for c in per])
    n = min(len(c) for c in per)
    out.update({"problems": len(per), "n": n, f"avg@{n}": avg, f"avg@{n}_se": se})
    for k in ks:
        if k > n:
            continue
        out[f"pass@{k}"] = mean_se([pass_at_k(len(c), sum(c), k) for c in per])[0]
        out[f"maj@{k}"] = mean_se([maj_at_k([a for a, _ in g], [c for _, c in g], k) for g in groups.values()])[0]
    return out

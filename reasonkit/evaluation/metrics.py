"""Benchmark metrics from per-problem sample verdicts: unbiased pass@k, avg@n ± s.e., maj@k."""
from __future__ import annotations

import math
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


def summarize(groups: dict[str, list[tuple[str | None, bool]]], ks: Sequence[int], equal=None) -> dict[str, float]:
    """groups: problem id → [(extracted, correct)] in sample order. maj@k votes over equivalence
    clusters (with ``equal``, e.g. ``MathChecker.equal``, ``0.5`` and ``1/2`` are one answer)."""
    from reasonkit.judging.vote import cluster_ids, cluster_many, maj_at_k
    out: dict[str, float] = {}
    per = [[c for _, c in g] for g in groups.values()]
    avg, se = mean_se([sum(c) / len(c) for c in per])
    n = min(len(c) for c in per)
    out.update({"problems": len(per), "n": n, f"avg@{n}": avg, f"avg@{n}_se": se})
    clusters = cluster_many([[a for a, _ in g] for g in groups.values()], equal)
    cluster_id_lists = [cluster_ids(cl, len(g)) for cl, g in zip(clusters, groups.values())]
    for k in ks:
        if k > n:
            continue
        out[f"pass@{k}"] = mean_se([pass_at_k(len(c), sum(c), k) for c in per])[0]
        out[f"maj@{k}"] = mean_se([float(maj_at_k(ids, [c for _, c in g], k))
                                   for g, ids in zip(groups.values(), cluster_id_lists)])[0]
    return out

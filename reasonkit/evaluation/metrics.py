"""Benchmark metrics from per-problem sample verdicts: unbiased pass@k, avg@n ± s.e., maj@k."""
from __future__ import annotations

import math
from typing import Sequence

# Bump when a metric's definition changes (enters every eval cell's hash).
METRICS_VERSION = "1"


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


def bootstrap_ci(values: Sequence[float], resamples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean over problems resampled with replacement: the spread a
    different draw of test problems would give (s.e. assumes normality; AIME has 30 problems)."""
    import numpy as np

    if not values:
        return 0.0, 0.0
    v = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def breakdown(groups: dict[str, list[tuple[str | None, bool]]], meta: dict[str, dict], fields: Sequence[str]
              ) -> dict[str, dict[str, dict[str, float]]]:
    """avg@n ± s.e. and problem count per value of each breakdown field (subject, level…)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for f in fields:
        by: dict[str, list[float]] = {}
        for pid, g in groups.items():
            by.setdefault(str((meta.get(pid) or {}).get(f)), []).append(sum(c for _, c in g) / len(g))
        out[f] = {}
        for val in sorted(by):
            mu, se = mean_se(by[val])
            out[f][val] = {"problems": len(by[val]), "avg": mu, "se": se}
    return out

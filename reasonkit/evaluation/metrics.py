"""Benchmark metrics from per-problem sample verdicts: unbiased pass@k, avg@n ± s.e., maj@k."""
from __future__ import annotations

import math
from collections.abc import Sequence

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


def maj_at_k_expected(sizes: Sequence[int], correct: Sequence[bool], n: int, k: int) -> float:
    """maj@k as an expectation over every k-subset of the n samples, like unbiased pass@k: the
    probability that a majority vote over k random samples picks a correct cluster. ``sizes`` are
    the answer clusters' sizes (samples without an answer are the rest of n and never vote); ties
    are broken uniformly (a random sample order's first-seen rule); no answer at all is wrong.

    Why not "the first k samples": that is one draw of the same quantity, so it moves with the
    sample order; this is its mean over all orders, computed exactly (dynamic programme over
    clusters: for a winner drawn t times, count the ways every other cluster stays ≤ t and how many
    tie it), cheap for any n.
    """
    import numpy as np

    if k > n:
        raise ValueError(f"maj@{k} needs at least {k} samples per problem, got {n}")
    if len(sizes) != len(correct):
        raise ValueError("sizes and correct differ in length")
    unanswered = n - sum(sizes)
    if unanswered < 0:
        raise ValueError("cluster sizes add up to more than n")
    total = math.comb(n, k)
    comb = [[math.comb(c, x) for x in range(c + 1)] for c in range(n + 1)]
    result = 0.0
    for size in sorted(set(sizes)):
        wins = sum(1 for s, c in zip(sizes, correct) if s == size and c)
        if not wins:
            continue
        others = list(sizes)
        others.remove(size)
        m = len(others)
        p = 0.0
        for t in range(1, min(size, k) + 1):
            # ways[d, s]: draws d from the other clusters, s of which tie the winner at t
            ways = np.zeros((k - t + 1, m + 1))
            ways[0, 0] = 1.0
            for c in others:
                new = np.zeros_like(ways)
                for x in range(min(c, t, k - t) + 1):
                    tie = 1 if x == t else 0
                    new[x:, tie:] += ways[:k - t + 1 - x, :m + 1 - tie] * comb[c][x]
                ways = new
            rest = [math.comb(unanswered, k - t - d) if k - t - d <= unanswered else 0 for d in range(k - t + 1)]
            share = 1.0 / (np.arange(m + 1) + 1.0)
            p += comb[size][t] * float(np.asarray(rest) @ ways @ share)
        result += wins * p / total
    return result


def summarize(groups: dict[str, list[tuple[str | None, bool]]], ks: Sequence[int], equal=None) -> dict[str, float]:
    """groups: problem id → [(extracted, correct)] in sample order. maj@k votes over equivalence
    clusters (with ``equal``, e.g. ``MathChecker.equal``, ``0.5`` and ``1/2`` are one answer); a
    cluster is correct when its first sample's verdict is."""
    from reasonkit.judging.vote import cluster_many
    out: dict[str, float] = {}
    per = [[c for _, c in g] for g in groups.values()]
    avg, se = mean_se([sum(c) / len(c) for c in per])
    n = min(len(c) for c in per)
    out.update({"problems": len(per), "n": n, f"avg@{n}": avg, f"avg@{n}_se": se})
    clusters = cluster_many([[a for a, _ in g] for g in groups.values()], equal)
    shapes = [([len(cl.members) for cl in cls], [g[min(cl.members)][1] for cl in cls], len(g))
              for cls, g in zip(clusters, groups.values())]
    for k in ks:
        if k > n:
            continue
        out[f"pass@{k}"] = mean_se([pass_at_k(len(c), sum(c), k) for c in per])[0]
        out[f"maj@{k}"] = mean_se([maj_at_k_expected(sz, ok, size, k) for sz, ok, size in shapes])[0]
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

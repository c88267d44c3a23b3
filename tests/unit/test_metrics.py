import math
from itertools import combinations

import pytest

from reasonkit.evaluation.metrics import mean_se, pass_at_k, summarize


@pytest.mark.parametrize("n,c,k", [(4, 0, 1), (4, 1, 1), (4, 2, 2), (8, 3, 4), (5, 5, 3), (10, 1, 10)])
def test_pass_at_k_matches_brute_force(n, c, k):
    # probability that a random k-subset of n samples (c correct) contains a correct one
    samples = [1] * c + [0] * (n - c)
    subsets = list(combinations(range(n), k))
    brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute)


def test_pass_at_k_needs_enough_samples():
    with pytest.raises(ValueError, match="pass@5 needs at least 5"):
        pass_at_k(4, 1, 5)


def test_mean_se():
    mu, se = mean_se([0.0, 1.0, 1.0, 0.0])
    assert mu == 0.5 and se == pytest.approx(math.sqrt((4 * 0.25 / 3) / 4))


def test_summarize_maj_votes_over_equivalent_answers():
    # "1/2" and "0.5" are one cluster (2 votes, correct) beating "3" (1 vote)
    def equal(pairs):
        val = {"1/2": 0.5, "0.5": 0.5, "3": 3.0}
        return [val[a] == val[b] for a, b in pairs]

    out = summarize({"p": [("3", False), ("1/2", True), ("0.5", True)]}, [3], equal)
    assert out["maj@3"] == 1.0
    out = summarize({"p": [("3", False), ("1/2", True), ("0.5", True)]}, [3])  # strings: 3-way tie, 2 correct
    assert out["maj@3"] == pytest.approx(2 / 3)
    out = summarize({"p": [("3", False), ("4", True), ("3", False)]}, [3])
    assert out["maj@3"] == 0.0


def test_summarize():
    groups = {"a": [("1", True), ("2", False)], "b": [("5", False), ("5", False)]}
    out = summarize(groups, [1, 2, 4])
    assert out["avg@2"] == 0.25 and out["pass@1"] == 0.25 and out["pass@2"] == 0.5
    assert "pass@4" not in out and out["problems"] == 2

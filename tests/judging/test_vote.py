"""Majority vote over equivalent answers, pseudo-labels, judge_vote's label source, maj@k."""
import pytest

from reasonkit.judging import JudgeInputError, build_judge, to_config
from reasonkit.judging.vote import (JudgeVoteJudge, VoteJudge, cluster_answers, cluster_ids,
                                    maj_at_k)

from .conftest import make_samples


def test_clusters_by_equivalence_not_strings(checker):
    answers = ["0.5", r"\frac{1}{2}", "2", "1/2", None, "2.0", r"\dfrac{1}{2}", "3"]
    clusters = cluster_answers(answers, checker.equal)
    assert [sorted(c.members) for c in clusters] == [[0, 1, 3, 6], [2, 5], [7]]
    # representative: the largest typography group (\\frac and \\dfrac spellings), not "0.5"
    assert clusters[0].answer == r"\frac{1}{2}"
    assert cluster_ids(clusters, len(answers)) == [0, 0, 1, 0, None, 1, 0, 2]


def test_string_vote_would_pick_the_wrong_answer(checker):
    # 3 × "7" (wrong) vs 5 correct answers written three ways: strings split the right answer
    answers = ["7", "7", "7", r"\frac{1}{2}", r"\frac{1}{2}", "0.5", "0.5", "1/2"]
    by_string = cluster_answers(answers)  # no equivalence: typography-only grouping
    assert by_string[0].answer == "7"
    by_math = cluster_answers(answers, checker.equal)
    assert by_math[0].count == 5 and by_math[0].answer in (r"\frac{1}{2}", "0.5")


def test_cluster_without_equal_uses_typography_only():
    clusters = cluster_answers([r"\frac{1}{2}", r"\dfrac {1}{2}", "0.5"])
    assert [c.members for c in clusters] == [[0, 1], [2]]


def test_maj_at_k():
    ids = [1, 0, 0, 1, 1, None]
    correct = [False, True, True, False, False, False]
    assert maj_at_k(ids, correct, 1) is False
    assert maj_at_k(ids, correct, 3) is True
    assert maj_at_k(ids, correct, 5) is False
    assert maj_at_k(ids, correct, 2) is False  # 1–1 tie: the cluster seen first wins
    assert maj_at_k([None, None], [False, False], 2) is False


def _vote_samples():
    confident = [r"\boxed{5}"] * 14 + [r"\boxed{5.0}", r"\boxed{6}"]  # 15/16 say 5; gold says 6
    split = [r"\boxed{6}"] * 8 + [r"\boxed{\frac{12}{2}}"] * 2 + [r"\boxed{7}"] * 6  # 10/16
    few = [r"\boxed{9}"] * 3  # share 1.0 but only 3 samples (< min_count 4)
    return make_samples({"conf": ("6", confident), "split": ("6", split), "few": ("8", few),
                         "none": ("1", ["no idea"] * 4)})


def test_vote_judge_pseudo_labels(checker):
    judge = VoteJudge(to_config({"name": "vote"}), checker=checker)
    out = list(judge.judge(_vote_samples()))
    by = {s["id"]: s for s in out}
    v = by["conf_0"]["meta"]["vote"]
    assert (v["answer"], v["count"], v["n"], v["confident"]) == ("5", 15, 16, True)
    assert by["conf_14"]["correct"] and not by["conf_15"]["correct"]
    split = by["split_0"]["meta"]["vote"]
    assert split["count"] == 10 and split["share"] == 0.625 and not split["confident"]
    assert by["split_9"]["correct"] and not by["split_10"]["correct"]
    assert by["few_0"]["meta"]["vote"]["confident"] is False
    assert by["none_0"]["label_source"] == "none" and not by["none_0"]["correct"]
    assert judge.stats["problems"] == 4 and judge.stats["confident"] == 1
    assert all(s["judge"].startswith("vote@") for s in out)


def test_judge_vote_uses_vote_where_confident_else_dataset(checker):
    judge = JudgeVoteJudge(to_config({"name": "judge_vote"}), checker=checker)
    out = list(judge.judge(_vote_samples()))
    by = {s["id"]: s for s in out}
    # confident vote (15/16 ≥ 0.9, 15 ≥ 4): "5" counts as correct although the dataset says 6
    assert by["conf_0"]["label_source"] == "vote" and by["conf_0"]["correct"]
    assert by["conf_15"]["correct"] is False
    # not confident: judged against the dataset label 6 (7 is wrong, 12/2 is right)
    assert by["split_0"]["label_source"] == "dataset"
    assert by["split_8"]["correct"] and not by["split_10"]["correct"]
    assert by["few_0"]["label_source"] == "dataset" and not by["few_0"]["correct"]
    st = judge.stats
    assert st["label_source"] == {"vote": 16, "dataset": 16 + 3 + 4, "none": 0}
    assert st["vote_vs_dataset"] == {"agree": 0, "disagree": 1}


def test_thresholds_are_configurable(checker):
    judge = JudgeVoteJudge(to_config({"name": "judge_vote", "min_share": 0.6, "min_count": 3}),
                           checker=checker)
    out = {s["id"]: s for s in judge.judge(_vote_samples())}
    assert out["split_0"]["label_source"] == "vote"  # 0.625 ≥ 0.6
    assert out["few_0"]["label_source"] == "vote" and out["few_0"]["correct"]


def test_vote_refuses_interleaved_problems():
    judge = build_judge({"name": "vote", "workers": 1})
    samples = make_samples({"a": ("1", ["1"]), "b": ("1", ["1"])}) + make_samples({"a": ("1", ["1"])})
    samples[-1]["id"] = "a_9"
    with pytest.raises(JudgeInputError, match="problem_id.*appeared again"):
        list(judge.judge(samples))
    judge.close()


def test_vote_merges_spellings_seen_in_real_answers(checker):
    """The spot-check's probes (benchmarks/results/vote_spotcheck.md), through judge=vote's
    extraction and clustering: spellings merge, different answers stay apart."""
    judge = VoteJudge(to_config({"name": "vote", "min_count": 1}), checker=checker)
    probes = {"half": [r"\frac{1}{2}", "0.5", "1/2", r"\dfrac12", "2"],
              "x3": ["x=3", "3", "x = 3", "4"],
              "interval": ["[0,1)", r"\left[0, 1\right)", "(0,1]"]}
    samples = make_samples({p: (None, [f"The answer is $\\boxed{{{a}}}$." for a in answers])
                            for p, answers in probes.items()})
    out = list(judge.judge(iter(samples)))
    ids = {}
    for s in out:
        ids.setdefault(s["problem_id"], []).append(s["meta"]["cluster"])
    assert ids == {"half": [0, 0, 0, 0, 1], "x3": [0, 0, 0, 1], "interval": [0, 0, 1]}, ids

"""judge=llm_vote with a scripted engine: the teacher's JSON counts decide the pseudo-label; a reply
that is not a valid count object for the listed answers is a recorded parse error."""
from __future__ import annotations

import pytest

from reasonkit.engines.base import Completion
from reasonkit.judging import build_judge, code_versions
from reasonkit.judging.llm_vote import CountsParseError, parse_counts


class Engine:
    name = "scripted"

    def __init__(self, replies):
        self.replies = replies
        self.seen = []
        self.sampling = None

    def generate(self, requests, sampling):
        self.seen.extend(requests)
        self.sampling = sampling
        return [[Completion(self.replies[r.ids[0]])] for r in requests]

    def close(self):
        pass


def _samples(pid: str, answers: list[str | None]) -> list[dict]:
    return [{"id": f"{pid}_{k}", "problem_id": pid, "prompt": f"question {pid}", "answer": "7",
             "response": "no idea" if a is None else f"so \\boxed{{{a}}}"} for k, a in enumerate(answers)]


def test_parse_counts():
    answers = ["1/2", "0.5", "3", "\\frac{1}{2}"]
    assert parse_counts('<think>{"3": 4}</think>{"1/2": 3, "3": 1}', answers) == {"1/2": 3, "3": 1}
    assert parse_counts('{"\\\\dfrac{1}{2}": 3}', answers) == {"\\dfrac{1}{2}": 3}  # spelling-insensitive
    for bad, why in (('{"1/2": "3"}', "count of"), ('{"1/2": 5}', "sum to 5"), ('{"9": 2}', "not one of the listed"),
                     ('{"1/2": 0}', "positive"), ("the answer is 1/2", "no JSON"), ('{"1/2": true}', "count of")):
        with pytest.raises(CountsParseError, match=why):
            parse_counts(bad, answers)


def test_llm_vote_labels_and_parse_errors():
    replies = {"a#vote": 'Grouping: {"12": 4, "13": 1}',  # confident (4/5 = 0.8 >= 0.8, count >= 4)
               "b#vote": '{"5": 2, "6": 2}',  # a tie: first listed wins, not confident
               "c#vote": "They are all the same."}  # no JSON: every sample of c false
    engine = Engine(replies)
    judge = build_judge({"name": "llm_vote", "min_share": 0.8, "min_count": 4,
                         "llm_vote": {"batch_size": 6, "sampling": {"temperature": 0.0, "max_tokens": 99}}},
                        engine=engine, render=lambda t: f"<u>{t}</u>")
    samples = (_samples("a", ["12", "12", "12.0", "12", "13"]) + _samples("b", ["5", "6", "6", "5"])
               + _samples("c", ["1", "1"]) + _samples("d", [None, None]))
    out = list(judge.judge(samples))
    assert [s["id"] for s in out] == [s["id"] for s in samples]
    by = {s["id"]: s for s in out}
    # a: the winner is "12"; its key matches 3 samples (the model also counted "12.0", recorded)
    assert [by[f"a_{k}"]["correct"] for k in range(5)] == [True, True, False, True, False]
    va = by["a_0"]["meta"]["vote"]
    assert (va["answer"], va["count"], va["matched"], va["share"], va["confident"]) == ("12", 4, 3, 0.8, True)
    vb = by["b_0"]["meta"]["vote"]
    assert vb["answer"] == "5" and vb["tie"] and not vb["confident"]
    assert [by[f"b_{k}"]["correct"] for k in range(4)] == [True, False, False, True]
    assert all(not by[f"c_{k}"]["correct"] and "no JSON" in by[f"c_{k}"]["meta"]["judge_error"] for k in range(2))
    assert all(by[f"{p}_0"]["label_source"] == src for p, src in (("a", "llm_vote"), ("c", "none"), ("d", "none")))
    # one request per problem with answers (d has none), rendered, listing the extracted answers
    assert sorted(r.ids[0] for r in engine.seen) == ["a#vote", "b#vote", "c#vote"]
    first = next(r for r in engine.seen if r.ids[0] == "a#vote").prompt
    assert first.startswith("<u>") and "question a" in first and "\n3. 12.0\n" in first
    assert engine.sampling == {"temperature": 0.0, "max_tokens": 99}
    st = judge.stats
    assert (st["problems"], st["confident"], st["ties"], st["parse_errors"], st["requests"]) == (4, 1, 1, 1, 3)
    assert st["label_source"] == {"llm_vote": 9, "none": 4}


def test_llm_vote_needs_an_engine_and_is_versioned():
    with pytest.raises(ValueError, match="needs an engine"):
        build_judge({"name": "llm_vote"})
    v = code_versions({"name": "llm_vote"})
    assert v["judge"].startswith("llm_vote@") and {"extract", "think", "math_verify"} <= set(v)

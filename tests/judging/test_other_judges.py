"""judge=choice, judge=critique, judge=llm (with a fake engine), and config composition."""
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from reasonkit.engines.base import Completion, GenRequest
from reasonkit.judging import JUDGE_NAMES, JudgeConfig, build_judge, to_config
from reasonkit.judging.llm import VerdictParseError, parse_verdict

from .conftest import load_cases

CONF = Path(__file__).resolve().parents[2] / "conf" / "judge"


def test_choice_judge_from_cases():
    cases = [c for c in load_cases("choice.json") if "letters" not in c]
    samples = [{"id": f"{c['id']}_0", "problem_id": c["id"], "answer": "B", "response": c["response"]}
               for c in cases]
    judge = build_judge({"name": "choice"})
    out = list(judge.judge(samples))
    assert [s["extracted"] for s in out] == [c["expected"] for c in cases]
    assert [s["correct"] for s in out] == [c["expected"] == "B" for c in cases]
    assert judge.stats["samples"] == len(cases) and judge.stats["correct"] == sum(c["expected"] == "B" for c in cases)


def test_choice_gold_forms():
    judge = build_judge({"name": "choice", "choices": "ABCDEFGHIJ"})
    samples = [{"id": "a_0", "problem_id": "a", "answer": "(c)", "response": "Answer: C"},
               {"id": "b_0", "problem_id": "b", "answer": 9, "response": "The answer is (J)"},
               {"id": "c_0", "problem_id": "c", "answer": None, "response": "Answer: A"}]
    assert [s["correct"] for s in judge.judge(samples)] == [True, True, False]
    assert judge.stats["no_gold"] == 1


def test_critique_judge_from_cases():
    cases = load_cases("critique.json")
    samples = [{"id": f"{c['id']}_0", "problem_id": c["id"], "answer": c["target"],
                "response": c["response"]} for c in cases]
    out = list(build_judge({"name": "critique"}).judge(samples))
    assert [s["correct"] for s in out] == [c["correct"] for c in cases]
    assert [s["extracted"] for s in out] == [c["expected"] for c in cases]


class FakeEngine:
    """Implements the Engine protocol; answers with what a judge model might say."""

    name = "fake"

    def __init__(self, replies):
        self.replies = replies
        self.seen: list[GenRequest] = []
        self.sampling = None

    def generate(self, requests, sampling):
        self.seen.extend(requests)
        self.sampling = sampling
        return [[Completion(self.replies[r.ids[0]])] for r in requests]

    def loglikelihood(self, pairs):
        raise NotImplementedError

    def close(self):
        pass


def test_llm_judge_with_schema():
    replies = {
        "a_0#judge": '<think>compare 19 and 19 {"correct": false}</think>{"correct": true, "reason": "same"}',
        "b_0#judge": 'Verdict: {"correct": false, "reason": "19 != 20"}',
        "c_0#judge": "I think it is right.",  # no JSON: parse error, verdict false
        "d_0#judge": '{"correct": "yes"}',  # wrong type: refused
    }
    engine = FakeEngine(replies)
    judge = build_judge({"name": "llm", "llm": {"batch_size": 3, "sampling": {"temperature": 0.0, "max_tokens": 64}}},
                        engine=engine, render=lambda text: f"<user>{text}</user>")
    samples = [{"id": f"{p}_0", "problem_id": p, "prompt": "7+12?", "answer": "19",
                "response": f"<think>scratch</think>The answer is \\boxed{{{v}}}"}
               for p, v in zip("abcd", (19, 20, 19, 19))]
    out = list(judge.judge(samples))
    assert [s["correct"] for s in out] == [True, False, False, False]
    assert out[0]["meta"]["judge_reason"] == "same" and out[0]["extracted"] == "19"
    assert "judge_error" in out[2]["meta"] and "judge_error" in out[3]["meta"]
    assert judge.stats["parse_errors"] == 2 and judge.stats["requests"] == 4
    first = engine.seen[0].prompt
    assert first.startswith("<user>") and "7+12?" in first and "scratch" not in first
    assert engine.sampling == {"temperature": 0.0, "max_tokens": 64}
    assert engine.seen[0].seeds[0] != engine.seen[1].seeds[0]
    assert all(s["label_source"] == "llm" for s in out)


def test_parse_verdict():
    assert parse_verdict('x {"a": 1} {"correct": true}')["correct"] is True
    with pytest.raises(VerdictParseError, match="must be bool"):
        parse_verdict('{"correct": 1}')


def test_llm_needs_engine():
    with pytest.raises(ValueError, match="needs an engine"):
        build_judge({"name": "llm"})


# ----------------------------------------------------------------------------- config


def test_every_yaml_composes_and_builds(bwrap):
    files = sorted(CONF.glob("*.yaml"))
    assert {f.stem for f in files} == set(JUDGE_NAMES)
    for f in files:
        merged = OmegaConf.merge(OmegaConf.structured(JudgeConfig), OmegaConf.load(f))
        cfg = OmegaConf.to_object(merged)
        assert isinstance(cfg, JudgeConfig) and cfg.name == f.stem
        judge = build_judge(cfg, engine=FakeEngine({}))
        assert judge.tag.startswith(f.stem + "@")
        judge.close()


def test_typos_fail_at_composition():
    with pytest.raises(Exception, match="min_shar"):
        to_config({"name": "vote", "min_shar": 0.5})
    with pytest.raises(Exception, match="timeout_s"):
        to_config({"timeout_s": "soon"})
    with pytest.raises(ValueError, match="unknown extractor"):
        build_judge({"extract": {"order": ["boxed", "lastnumber"]}})
    with pytest.raises(ValueError, match="judge.name"):
        build_judge({"name": "maths"})

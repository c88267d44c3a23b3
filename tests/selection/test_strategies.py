"""Every selection strategy and filter on hand-built problems, with the per-rule counts."""
from __future__ import annotations

import dataclasses
import json

import pytest

from reasonkit.selection.config import SelectionConfig
from reasonkit.selection.filters import Decontaminator
from reasonkit.selection.strategies import select


def S(pid, k, correct, response=None, model="m1", **kw):
    return {"id": f"{pid}_{k}", "problem_id": pid, "k": k, "prompt": f"Question {pid}: what is 2+2?",
            "answer": "4", "response": response if response is not None else f"answer {pid} {k} " + "x " * k,
            "model": model, "sampling": {}, "seed": k, "correct": correct, **kw}


def run(samples, scores=None, **cfg):
    stats: dict = {}
    out = list(select(SelectionConfig(**cfg), samples, stats, scores))
    return out, stats


def ids(rows):
    return [r["id"] for r in rows]


def balanced(stats):
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped_"))
    return stats["seen"] == stats["kept"] + dropped


def test_correct_and_max_per_problem():
    data = [S("a", 0, True), S("a", 1, False), S("a", 2, True), S("a", 3, True), S("b", 0, False)]
    out, st = run(data, strategy="correct")
    assert ids(out) == ["a_0", "a_2", "a_3"]
    assert st["dropped_incorrect"] == 2 and st["problems_kept"] == 1 and balanced(st)
    out, st = run(data, strategy="correct", max_per_problem=2)
    assert ids(out) == ["a_0", "a_2"] and st["dropped_over_max_per_problem"] == 1 and balanced(st)


def test_all_with_balance_alternates_right_and_wrong():
    data = [S("a", 0, True), S("a", 1, True), S("a", 2, True), S("a", 3, False), S("a", 4, False)]
    out, st = run(data, strategy="all", max_per_problem=4, balance_correct=True)
    assert [r["correct"] for r in out] == [True, False, True, False]
    assert st["dropped_over_max_per_problem"] == 1 and balanced(st)


def test_consistency_keeps_problems_where_some_model_is_mixed():
    data = [  # p: m1 all right, m2 mixed → keep; q: m1 all right, m2 all wrong → drop; r: all wrong
        S("p", 0, True, model="m1"), S("p", 1, True, model="m1"), S("p", 2, True, model="m2"),
        S("p", 3, False, model="m2"),
        S("q", 0, True, model="m1"), S("q", 1, True, model="m1"), S("q", 2, False, model="m2"),
        S("q", 3, False, model="m2"),
        S("r", 0, False, model="m1"), S("r", 1, False, model="m2")]
    out, st = run(data, strategy="all", consistency=True)
    assert {r["problem_id"] for r in out} == {"p"}
    assert st["problems_dropped_consistency"] == 2 and st["dropped_consistency"] == 6 and balanced(st)


def test_pass_rate_band_is_exclusive():
    data = ([S("a", k, k < 1) for k in range(10)]       # 0.1 → dropped (not > 0.1)
            + [S("b", k, k < 5) for k in range(10)]     # 0.5 → kept
            + [S("c", k, k < 9) for k in range(10)])    # 0.9 → dropped (not < 0.9)
    out, st = run(data, strategy="correct", pass_rate_min=0.1, pass_rate_max=0.9)
    assert {r["problem_id"] for r in out} == {"b"} and len(out) == 5
    assert st["problems_dropped_pass_rate"] == 2 and balanced(st)


def test_difficulty_from_meta_or_field():
    data = [S("a", 0, True, meta={"difficulty": "hard"}), S("b", 0, True, meta={"difficulty": "easy"}),
            S("c", 0, True, difficulty="medium"), S("d", 0, True)]
    out, st = run(data, strategy="correct", difficulty_keep=["medium", "hard"])
    assert ids(out) == ["a_0", "c_0"] and st["problems_dropped_difficulty"] == 2


@pytest.mark.parametrize("strategy,by,expect", [
    ("llh_highest", "sum", "a_1"), ("llh_highest", "mean", "a_2"),
    ("llh_lowest", "sum", "a_2"), ("llh_lowest", "mean", "a_3")])
def test_llh_highest_lowest_by_sum_and_mean(strategy, by, expect):
    data = [S("a", 0, False), S("a", 1, True), S("a", 2, True), S("a", 3, True)]
    scores = {"a_0": {"llh_sum": 0.0, "llh_mean": 0.0},     # incorrect: never chosen
              "a_1": {"llh_sum": -10.0, "llh_mean": -1.0},
              "a_2": {"llh_sum": -40.0, "llh_mean": -0.5},
              "a_3": {"llh_sum": -30.0, "llh_mean": -3.0}}
    out, st = run(data, scores, strategy=strategy, llh_by=by)
    assert ids(out) == [expect]
    assert out[0]["score"] == scores[expect]
    assert st["dropped_incorrect"] == 1 and st["dropped_not_chosen"] == 2 and balanced(st)


def test_llh_needs_scores_and_names_the_sample():
    with pytest.raises(ValueError, match="a_0: no 'llh_mean' score"):
        run([S("a", 0, True)], {}, strategy="llh_highest")


def test_llh_random_is_seeded_per_problem_and_order_independent():
    data = [S(p, k, True) for p in "abcdefgh" for k in range(6)]
    out1, _ = run(data, strategy="llh_random", seed=3)
    out2, _ = run(data[6:] + data[:6], strategy="llh_random", seed=3)  # problem a moved last
    assert sorted(ids(out1)) == sorted(ids(out2))
    out3, _ = run(data, strategy="llh_random", seed=4)
    assert ids(out1) != ids(out3)  # 8 problems × 6 choices: a different seed changes something
    assert len(out1) == 8


def test_shortest_and_longest_correct_use_tokens_when_recorded():
    data = [S("a", 0, True, "short", n_completion_tokens=50), S("a", 1, True, "a much longer text",
            n_completion_tokens=10), S("a", 2, False, "x", n_completion_tokens=1)]
    assert ids(run(data, strategy="shortest_correct")[0]) == ["a_1"]
    assert ids(run(data, strategy="longest_correct")[0]) == ["a_0"]
    assert ids(run(data, strategy="shortest_correct", length_by="chars")[0]) == ["a_0"]


def test_preference_pairs_short_long_and_silc():
    data = [S("a", 0, True, "c" * 30), S("a", 1, True, "c" * 10), S("a", 2, True, "c" * 50),
            S("a", 3, False, "w" * 5), S("a", 4, False, "w" * 80),
            S("b", 0, False, "w" * 5), S("b", 1, True, "c" * 3)]  # b: correct shorter than wrong
    out, st = run(data, strategy="pairs")
    by = {(r["problem_id"], r["pair_type"]): r for r in out}
    sl = by[("a", "short_long")]
    assert (sl["chosen_id"], sl["rejected_id"]) == ("a_1", "a_2")
    silc = by[("a", "silc")]
    assert (silc["chosen_id"], silc["rejected_id"]) == ("a_1", "a_3")
    assert silc["chosen_correct"] and not silc["rejected_correct"]
    assert len(silc["rejected"]) < len(silc["chosen"])
    assert ("b", "silc") not in by and ("b", "short_long") not in by
    assert st["pairs_short_long"] == 1 and st["pairs_silc"] == 1
    assert st["problems_without_silc"] == 1 and st["problems_without_short_long"] == 1


def test_exact_and_near_duplicates():
    base = "First add the units then the tens and the total is forty two so the answer is 42"
    data = [S("a", 0, True, base), S("a", 1, True, base + "  "), S("a", 2, True, base + " indeed"),
            S("a", 3, True, "A completely different derivation reaching 42 by multiplication"),
            S("b", 0, True, base)]  # another problem, same response: not an exact dup (prompt differs)
    out, st = run(data, strategy="correct", dedup="exact")
    assert ids(out) == ["a_0", "a_2", "a_3", "b_0"] and st["dropped_dup_exact"] == 1
    out, st = run(data, strategy="correct", dedup="near", near_dup_threshold=0.8)
    assert ids(out) == ["a_0", "a_3", "b_0"] and st["dropped_dup_near"] == 2 and balanced(st)


def test_ngram_decontamination(tmp_path):
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"problem": "Find the number of ordered pairs of positive integers "
                                         "x and y such that x plus y equals twenty and x is even"}) + "\n"
                  + json.dumps({"prompt": "What is 7 times 8?"}) + "\n")
    leak = S("a", 0, True)
    leak["prompt"] = ("Please solve: find the number of ordered pairs of positive integers x and y "
                      "such that x plus y equals twenty and x is even. Show work.")
    short = S("b", 0, True)
    short["prompt"] = "Quick one. What is 7 times 8?"
    clean = S("c", 0, True)
    clean["prompt"] = "Find the number of ordered pairs of primes summing to twenty"
    out, st = run([leak, short, clean], strategy="correct", decontam_paths=[str(ev)])
    assert ids(out) == ["c_0"] and st["problems_dropped_decontam"] == 2
    assert st["decontam_eval_items"] == 2
    assert Decontaminator([ev]).hit(leak["prompt"]) == "eval.jsonl:1"


def test_bad_eval_file_names_line_and_field(tmp_path):
    ev = tmp_path / "eval.jsonl"
    ev.write_text('{"prompt": "ok"}\n{"text": 3}\n')
    with pytest.raises(ValueError, match=r"eval.jsonl:2: field 'prompt': missing"):
        Decontaminator([ev])


def test_problem_not_consecutive_is_refused():
    with pytest.raises(ValueError, match="must be consecutive"):
        run([S("a", 0, True), S("b", 0, True), S("a", 1, True)])


def test_missing_judgment_is_refused_with_sample_id():
    with pytest.raises(ValueError, match="b_0: field 'correct'"):
        run([S("b", 0, None)], strategy="correct")


@pytest.mark.parametrize("field,value,msg", [
    ("strategy", "best", "selection.strategy"), ("dedup", "fuzzy", "selection.dedup"),
    ("llh_by", "median", "selection.llh_by"), ("pairs", ["long_short"], "selection.pairs"),
    ("max_per_problem", 0, "max_per_problem")])
def test_bad_options_fail_before_work(field, value, msg):
    cfg = dataclasses.replace(SelectionConfig(), **{field: value})
    with pytest.raises(ValueError, match=msg):
        list(select(cfg, [], {}))


def test_every_selection_option_runs(tmp_path):
    """Each conf/selection/*.yaml (with scores and labels provided) runs on a mixed stream."""
    from pathlib import Path

    import yaml

    conf = Path(__file__).resolve().parents[2] / "conf" / "selection"
    ev = tmp_path / "e.txt"
    ev.write_text("completely unrelated text about geometry of circles and their tangents lines\n")
    data = [S(p, k, (k + i) % 3 != 0, model=f"m{k % 2}", meta={"difficulty": "hard"}, n_completion_tokens=10 + k)
            for i, p in enumerate("abcd") for k in range(6)]
    scores = {s["id"]: {"llh_sum": -float(len(s["id"]) + s["k"]), "llh_mean": -1.0 / (1 + s["k"])} for s in data}
    names = sorted(p.stem for p in conf.glob("*.yaml"))
    assert len(names) >= 18
    for name in names:
        opts = yaml.safe_load((conf / f"{name}.yaml").read_text())
        if opts.get("decontam_paths") == "???":
            opts["decontam_paths"] = [str(ev)]
        out, st = run(data, scores, **opts)
        assert out, name
        if opts.get("strategy") != "pairs":
            assert balanced(st), (name, st)

"""score → select → format through the real entrypoint on the tiny local models (CPU)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


pytestmark = pytest.mark.slow


def only(outputs: Path, stage: str) -> Path:
    dirs = [p for p in (outputs / "artifacts" / stage).iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def records(art: Path) -> list[dict]:
    return [json.loads(line) for p in sorted(art.glob("part-*.jsonl")) for line in p.read_text().splitlines()]


def test_llh_selection_scores_every_judged_sample_and_picks_the_highest(rk):
    rk("pipeline=[format]", "selection=llh_highest_mean", "format=chat", "debug=tiny")
    out = rk.outputs
    judged = records(only(out, "judge"))
    scores = {r["id"]: r for r in records(only(out, "score"))}
    assert set(scores) == {r["id"] for r in judged}
    assert all(s["n_tokens"] > 0 and s["llh_sum"] < 0 for s in scores.values())
    sel = only(out, "select")
    kept = records(sel)
    stats = json.loads((sel / "manifest.json").read_text())
    stats = stats.get("metrics", stats)
    assert kept
    for r in kept:  # the kept sample has the highest llh_mean among its problem's correct samples
        mates = [j for j in judged if j["problem_id"] == r["problem_id"] and j["correct"]]
        assert r["correct"]
        assert scores[r["id"]]["llh_mean"] == max(scores[m["id"]]["llh_mean"] for m in mates)
        assert r["score"]["llh_mean"] == scores[r["id"]]["llh_mean"]
    assert len({r["problem_id"] for r in kept}) == len(kept)
    # a second selection strategy reuses generate/judge/score (no new score artifact)
    rk("pipeline=[select]", "selection=llh_lowest_sum", "debug=tiny")
    assert len([p for p in (out / "artifacts" / "score").iterdir() if p.is_dir()]) == 1
    assert len([p for p in (out / "artifacts" / "select").iterdir() if p.is_dir()]) == 2


def test_pairs_to_trl_dpo_and_critique_formats(rk):
    # 6 samples per problem: the tiny teacher is right on some and wrong on others, so SILC pairs
    # are made (seeded: the same pairs every run). Its correct answers to one problem all have the
    # same length, so short/long pairs cannot form here; test_strategies.py builds those from
    # hand-made samples. Every pair made is checked against the judged samples below.
    rk("pipeline=[format]", "selection=pairs", "format=trl_dpo", "debug=tiny", "sampler.n=6")
    out = rk.outputs
    judged = {r["id"]: r for r in records(only(out, "judge"))}
    sel = records(only(out, "select"))
    assert "silc" in {r["pair_type"] for r in sel}, sel[:2]

    def length(r: dict) -> int:
        return r["n_completion_tokens"]

    for r in sel:
        ch, rj = judged[r["chosen_id"]], judged[r["rejected_id"]]
        assert ch["problem_id"] == rj["problem_id"] == r["problem_id"] and ch["id"] != rj["id"]
        assert (r["chosen"], r["rejected"]) == (ch["response"], rj["response"])
        assert ch["correct"] is True
        if r["pair_type"] == "short_long":  # shortest correct vs longest correct
            assert rj["correct"] is True and length(ch) < length(rj), (ch, rj)
        else:  # silc: short incorrect (rejected) vs a longer correct one
            assert rj["correct"] is False and length(rj) < length(ch), (ch, rj)
    rows = records(only(out, "format"))
    assert [r["id"] for r in rows] == [s["id"] for s in sel]
    for row, pair in zip(rows, sel):
        assert row["prompt"] == [{"role": "user", "content": pair["prompt"]}]
        assert [m["role"] for m in row["chosen"] + row["rejected"]] == ["assistant", "assistant"]
        assert row["chosen"] != row["rejected"] and row["pair_type"] == pair["pair_type"]
    assert not (out / "artifacts" / "score").exists()  # pairs need no scoring
    rk("pipeline=[format]", "selection=all", "format=critique", "debug=tiny", "sampler.n=6")  # reuses generate
    crit = [p for p in (out / "artifacts" / "format").iterdir() if p.is_dir() and p.name.startswith("critique")]
    assert len(crit) == 1 and (crit[0] / "train.parquet").exists()
    rows = records(crit[0])
    assert {r["target"] for r in rows} <= {"right", "wrong"}
    per_problem: dict[str, int] = {}
    for r in rows:
        per_problem[r["problem_id"]] = per_problem.get(r["problem_id"], 0) + 1
    assert max(per_problem.values()) <= 4

"""score → select → format through the real entrypoint on the tiny local models (CPU)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rk_helpers import run_rk

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
    rk("pipeline=[format]", "selection=pairs", "format=trl_dpo", "debug=tiny", check=False)
    out = rk.outputs
    fmt = [p for p in (out / "artifacts" / "format").iterdir() if p.is_dir()]
    sel = records(only(out, "select"))
    if sel:  # with no pair at all format refuses to write an empty training set
        assert fmt
        rows = records(fmt[0])
        assert len(rows) == len(sel) and {"prompt", "chosen", "rejected"} <= set(rows[0])
    assert not (out / "artifacts" / "score").exists()  # pairs need no scoring
    rk("pipeline=[format]", "selection=all", "format=critique", "debug=tiny")
    crit = [p for p in (out / "artifacts" / "format").iterdir() if p.is_dir() and p.name.startswith("critique")]
    assert len(crit) == 1 and (crit[0] / "train.parquet").exists()
    rows = records(crit[0])
    assert {r["target"] for r in rows} <= {"right", "wrong"}
    per_problem: dict[str, int] = {}
    for r in rows:
        per_problem[r["problem_id"]] = per_problem.get(r["problem_id"], 0) + 1
    assert max(per_problem.values()) <= 4

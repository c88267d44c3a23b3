"""Eval cells' W&B summary metrics ``<benchmark>/<metric>`` and flattened config, written by real
wandb in offline mode and read back from the run files."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from reasonkit.tracking.reader import find_runs
from reasonkit.tracking.summary import eval_summary, flatten
from reasonkit.tracking.workspace import workspace_spec

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def test_flatten_and_eval_summary():
    assert flatten({"a": {"b": {"c": 1}, "d": [1, 2]}, "e": {}, "f": None}) == {"a.b.c": 1, "a.d": [1, 2],
                                                                             "e": {}, "f": None}
    assert eval_summary("math500", {"avg@4": 0.5, "model": "x", "ok": True, "by_level": {"1": 0.25}}) == {
        "math500/avg@4": 0.5, "math500/by_level/1": 0.25}


def test_eval_cells_summary_read_back(tmp_path):
    rng = random.Random()  # values unknown to the code under test
    cells = []
    for name, sel in (("trained-a", "llh_highest_mean"), ("trained-b", "llh_random")):
        acc = round(rng.random(), 6)
        cells.append({"name": name, "benchmark": "toy",
                      "metrics": {"avg@4": acc, "avg@4_se": round(acc / 10, 6), "pass@2": 1.0, "model": "m"},
                      "config": {"selection": {"name": sel, "max_per_problem": None},
                                 "trainer": {"args": {"max_steps": rng.randint(1, 99)}}}})
    spec = {"experiment": "exp-sum", "cells": cells,
            "launch": {"sweep": "2026-01-01-00-00-00", "job_num": 0, "overrides": []}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(PYTHONPATH=str(ROOT), WANDB_SILENT="true")
    p = subprocess.run([sys.executable, str(HERE / "_log_cell.py"), str(tmp_path / "wb"), str(tmp_path / "spec.json")],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    runs = {r.name: r for r in find_runs(tmp_path / "wb")}
    assert set(runs) == {"trained-a", "trained-b"}
    for c in cells:
        r = runs[c["name"]]
        assert r.group == "exp-sum-2026-01-01-00-00-00" and r.job_type == "eval" and r.exit_code == 0
        assert r.summary["toy/avg@4"] == c["metrics"]["avg@4"]
        assert r.summary["toy/avg@4_se"] == c["metrics"]["avg@4_se"] and r.summary["toy/pass@2"] == 1.0
        assert "toy/model" not in r.summary
        assert r.config["selection.name"] == c["config"]["selection"]["name"]
        assert r.config["trainer.args.max_steps"] == c["config"]["trainer"]["args"]["max_steps"]
        assert "selection" not in r.config  # flattened, not nested


def test_workspace_spec_names_sweep_columns():
    spec = workspace_spec(None, "rk", "llh", ["selection.name"], ["toy/avg@4", "toy/pass@2"])
    pc = spec["sections"][0]["panels"][0]
    assert pc["type"] == "parallel_coordinates"
    assert pc["columns"] == ["config:selection.name", "summary:toy/avg@4", "summary:toy/pass@2"]
    assert [p["metric"] for p in spec["sections"][0]["panels"][1:]] == ["summary:toy/avg@4", "summary:toy/pass@2"]

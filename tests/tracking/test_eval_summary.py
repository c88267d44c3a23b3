"""An eval run puts each cell's numbers in W&B's summary as ``<benchmark>/<metric>`` (baselines
prefixed by their row) and the config as flat keys, read back from the real offline run files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasonkit.tracking.reader import find_runs
from rk_helpers import run_rk

pytestmark = pytest.mark.slow


def test_eval_cells_reach_the_wandb_summary_and_flat_config(tmp_path):
    run_rk(tmp_path, "stage=eval", "debug=tiny", "eval.models=[teacher,student]", "tracking=wandb",
           env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    metrics = json.loads(next(Path(tmp_path, "artifacts", "eval").glob("*/metrics.json")).read_text())
    runs = [r for r in find_runs(tmp_path) if r.job_type == "eval"]
    assert len(runs) == 1
    summary, config = runs[0].summary, runs[0].config
    for cell in metrics["cells"]:
        avg = f"avg@{cell['n']}"
        key = f"{cell['row']}/{cell['benchmark']}/{avg}"
        assert summary[key] == pytest.approx(cell[avg]), (key, sorted(summary))
    assert config["eval.name"] == "toy" and config["sampler.backend"] == "hf"  # flat a.b.c keys

"""The eval run lends one math-verify worker pool to every cell's checker instead of starting one
per cell, and a cell's records do not depend on which cells shared the pool before it (each cell
keeps its own verdict cache: a cell computed alone writes the same bytes)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from reasonkit.config import CONF_DIR, register
from rk_helpers import MODELS

register()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"


def _run(out: Path, benches: str):
    from hydra.core.global_hydra import GlobalHydra

    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline import runner

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = compose("config", overrides=[
            f"paths.outputs={out}", f"paths.models={MODELS}", "stage=eval", "eval.models=[student]",
            f"eval.benchmarks=[{benches}]", "eval.source=local", f"paths.benchmarks={FIXTURES}", "eval.limit=2",
            "eval.n=2", "eval.ks=[1,2]", "eval.sampling.max_tokens=24"])
    runner.run(cfg)
    cells = {}
    for man in (out / "artifacts" / "eval_cell").glob("*/manifest.json"):
        m = json.loads(man.read_text())
        cells[m["benchmark"]] = (man.parent / "samples.jsonl").read_bytes()
    return cells


@pytest.mark.slow
def test_one_pool_for_the_run_and_cells_independent_of_sharing(tmp_path, tiny_models, monkeypatch):
    import reasonkit.judging.mathcheck as mc

    started = []
    real = mc.HardTimeoutPool

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **k):
            started.append(1)
            super().__init__(*a, **k)

    monkeypatch.setattr(mc, "HardTimeoutPool", Counting)
    both = _run(tmp_path / "a", "math500,gsm8k,minerva_math")
    assert set(both) == {"math500", "gsm8k", "minerva_math"}
    assert len(started) == 1  # three math cells (judge + maj@k clustering each), one pool
    alone = _run(tmp_path / "b", "minerva_math")
    assert alone["minerva_math"] == both["minerva_math"]
    recs = [json.loads(x) for x in both["math500"].decode().splitlines()]
    assert recs and all(r["judge"].startswith("math@") for r in recs)

"""``iteration.rounds``: expert iteration as a chain of plain runs. Round 1 of the r1_traces row is
the sft_r1_correct row (same artifacts), round r+1 generates with and trains round r's model, and
what a round is follows from its predecessor's artifact, so plans and reruns find it again.

The end-to-end run (two rounds on the tiny models) is in test_studies.py (r1_traces)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from rk_helpers import MODELS, run_rk

from reasonkit.config import CONF_DIR, register
from reasonkit.pipeline import iteration


def _cfg(out: Path, *overrides: str):
    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=[f"paths.outputs={out}", f"paths.models={MODELS}", "debug=tiny",
                                             *overrides])


def _plan(cfg):
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.artifacts import ArtifactStore
    from reasonkit.pipeline.runner import plan

    return {s.stage.name: s.artifact for s in plan(cfg, ArtifactStore(cfg.paths.artifacts), list(cfg.pipeline))}


def test_round_configs(tmp_path):
    cfg = _cfg(tmp_path, "experiment=r1_traces/expert_iteration")
    assert cfg.iteration.rounds == 2 and cfg.iteration.first == "teacher"
    r1 = iteration.round_config(cfg, 1, None)
    assert r1.teacher == cfg.teacher and r1.student == cfg.student and r1.iteration.rounds == 1
    assert "report" not in r1.pipeline and "train" in r1.pipeline
    r2 = iteration.round_config(cfg, 2, "/ckpt/round1/model")
    for role in ("teacher", "student"):
        m = r2[role]
        assert m.path == "/ckpt/round1/model" and m.builtin is None and m.name == "toy-student-ei1"
        assert m.system_prompt == cfg.student.system_prompt  # asked as the student is, not with the R1 template
    assert list(r2.eval.models) == ["trained"] and list(r2.pipeline) == list(cfg.pipeline)
    # the config itself is untouched
    assert cfg.teacher.builtin == "toy-teacher" and cfg.iteration.rounds == 2
    # first=student: the student generates round 1
    s1 = iteration.round_config(_cfg(tmp_path, "iteration.rounds=2", "iteration.first=student"), 1, None)
    assert s1.teacher == s1.student


def test_round_one_is_the_single_round_row(tmp_path):
    """Before anything ran, the row plans round 1, whose artifacts are sft_r1_correct's."""
    ei = _plan(_cfg(tmp_path, "experiment=r1_traces/expert_iteration"))
    plain = _plan(_cfg(tmp_path, "experiment=r1_traces/sft_r1_correct"))
    for stage in ("generate", "judge", "select", "format", "train", "eval"):
        assert ei[stage] == plain[stage], stage
    assert ei["report"] != plain["report"]  # its own report (another experiment_name)


@pytest.mark.parametrize("overrides,expected", [
    (("iteration.rounds=2", "pipeline=[generate,judge]"), "iteration.rounds=2: each round trains"),
    (("iteration.rounds=2", "iteration.first=teachr"), "iteration.first: expected student | teacher"),
    (("iteration.rounds=0",), "iteration.rounds: expected >= 1"),
    (("iteration.rounds=2", "generators=[teacher,student]"), "iteration.rounds > 1 with generators"),
])
def test_bad_iteration_fails_in_one_line(tmp_path, overrides, expected):
    proc = run_rk(tmp_path / "o", *overrides, check=False)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]

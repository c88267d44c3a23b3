"""Every config value a stage reads while it runs is part of its artifact identity (or on the
allow-list in ``reasonkit.pipeline.identity`` with its reason).

The whole pipeline (generate → judge → transform → score → select → format → train → eval → report) runs
in this process on the tiny models with every config read recorded per stage: reads while the
stage computes its keys (and the subtrees it puts into them) are covered; any other read while it
runs is a hole, named in the failure.
"""
from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from reasonkit.config import CONF_DIR, register
from reasonkit.pipeline.identity import ReadRecorder, container_paths, uncovered
from rk_helpers import MODELS

pytestmark = pytest.mark.slow

# transform=difficulty puts the transform stage between judge and score/select (it stands in for
# the judged samples there), so its reads are checked too.
PIPELINE = ["generate", "judge", "transform", "score", "select", "format", "train", "eval", "report"]


def _compose(tmp_path, *overrides: str):
    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=[f"paths.outputs={tmp_path}", f"paths.models={MODELS}", "debug=tiny",
                                             "selection=llh_highest_mean", f"pipeline=[{','.join(PIPELINE)}]",
                                             "transform=difficulty", "transform.sampling.max_tokens=32",
                                             *overrides])


def _recorded_run(cfg):
    """Run the pipeline with every stage's keys/code/run wrapped into its own read bucket."""
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.runner import run
    from reasonkit.pipeline.stage import STAGES

    rec = ReadRecorder(cfg)
    placed: dict[str, set[str]] = {}
    originals = {}
    for name, st in STAGES.items():
        originals[name] = (st.keys, st.code, st.run)

        def keys(c, _n=name, _f=st.keys):
            with rec.into(f"{_n}:keys"):
                k = _f(c)
            placed.setdefault(_n, set()).update(container_paths(k))
            return k

        def code(c, _n=name, _f=st.code):
            with rec.into(f"{_n}:keys"):
                return _f(c)

        def run_(ctx, _n=name, _f=st.run):
            with rec.into(f"{_n}:run"):
                return _f(ctx)

        st.keys, st.code, st.run = keys, code, run_
    try:
        with rec.active():
            result = run(cfg)
    finally:
        for name, (k, c, r) in originals.items():
            STAGES[name].keys, STAGES[name].code, STAGES[name].run = k, c, r
    return rec, placed, result


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    cfg = _compose(tmp_path_factory.mktemp("identity"))
    return _recorded_run(cfg)


def holes(rec, placed, stage: str, drop_keys: bool = False) -> list[str]:
    covered = set() if drop_keys else rec.leaves(f"{stage}:keys") | placed.get(stage, set())
    return uncovered(rec.leaves(f"{stage}:run"), covered)


@pytest.mark.parametrize("stage", PIPELINE)
def test_every_value_a_stage_reads_is_in_its_identity(recorded, stage):
    rec, placed, result = recorded
    assert stage in result.computed_names(), f"{stage} did not run: {sorted(result.done)}"
    assert rec.leaves(f"{stage}:run"), f"no config reads were recorded for {stage}: the recorder is broken"
    missing = holes(rec, placed, stage)
    assert not missing, (f"stage {stage} reads {missing} while running, but they are not in its keys(): "
                         "a changed value would reuse a stale artifact. Add them to keys() or, if they "
                         "cannot change the output, to ALLOWED_READS with the reason.")


def test_the_check_fails_when_a_stage_drops_its_keys(recorded):
    """The check has teeth: the judge stage without its keys leaves its reads uncovered."""
    rec, placed, _ = recorded
    missing = holes(rec, placed, "judge", drop_keys=True)
    assert "judge.name" in missing and any(m.startswith("judge.extract.") for m in missing), missing

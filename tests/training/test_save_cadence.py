"""Every trainer preset's checkpoint cadence fires before the run ends (driven through
transformers' own step-end logic, DefaultFlowCallback), and validate() refuses a cadence that
cannot fire with one line."""
from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from reasonkit.config import CONF_DIR, register

register()
PRESETS = sorted(p.stem for p in (CONF_DIR / "trainer").glob("*.yaml"))
CADENCE = ("save_strategy", "save_steps", "max_steps", "num_train_epochs")


def _compose(*overrides: str):
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=list(overrides))


def _save_steps(cls, args: dict) -> list[int]:
    """Steps at which transformers' DefaultFlowCallback asks to save, for these args' cadence
    (only the cadence fields go to a CPU TrainingArguments: the preset's GPU settings cannot be
    built on this machine and do not affect when saving happens)."""
    from transformers import TrainingArguments
    from transformers.trainer_callback import DefaultFlowCallback, TrainerControl, TrainerState

    from reasonkit.training.cadence import effective_args

    a = effective_args(cls, args)
    targs = TrainingArguments(output_dir="/tmp/rk-cadence", use_cpu=True, report_to="none",
                              **{k: a[k] for k in CADENCE if k in a})
    assert targs.max_steps > 0, "presets train a fixed number of steps"
    state = TrainerState()
    state.compute_steps(targs, targs.max_steps)
    state.max_steps = targs.max_steps
    cb, saved = DefaultFlowCallback(), []
    for step in range(1, targs.max_steps + 1):
        state.global_step = step
        control = cb.on_step_end(targs, state, TrainerControl())
        if control.should_save:
            saved.append(step)
    return saved


@pytest.mark.parametrize("name", PRESETS)
def test_every_trainer_preset_saves_before_the_end(name):
    from reasonkit.training.entry import trl_classes

    cfg = _compose(f"trainer={name}")
    cls, _ = trl_classes(cfg.trainer.kind)
    args = OmegaConf.to_container(cfg.trainer.args, resolve=True)
    saved = _save_steps(cls, args)
    max_steps = args["max_steps"]
    assert saved and saved[-1] == max_steps  # the end always saves …
    assert [s for s in saved if s < max_steps], f"trainer={name}: save_steps={args.get('save_steps')} never fires before step {max_steps}"
    # debug=tiny (the smoke-test settings) keeps a checkpoint before the end too
    tiny = OmegaConf.to_container(_compose(f"trainer={name}", "debug=tiny").trainer.args, resolve=True)
    assert [s for s in _save_steps(cls, tiny) if s < tiny["max_steps"]]


def test_cadence_that_cannot_fire_is_refused_in_one_line():
    from reasonkit.training.cadence import check_save_cadence
    from reasonkit.training.entry import trl_classes

    cls, _ = trl_classes("sft")
    with pytest.raises(ValueError) as e:
        check_save_cadence("sft_x", cls, {"max_steps": 50, "save_steps": 500})
    msg = str(e.value)
    assert "\n" not in msg and "save_steps=500 > max_steps=50" in msg and "trainer=sft_x" in msg
    assert _save_steps(cls, {"max_steps": 50, "save_steps": 500}) == [50]  # what it guards against: only the end
    for ok in ({"max_steps": 50, "save_steps": 50}, {"max_steps": 50, "save_steps": 0.25},
               {"max_steps": 50, "save_steps": 500, "save_strategy": "no"}, {"max_steps": -1, "save_steps": 500}):
        check_save_cadence("sft_x", cls, ok)
    assert _save_steps(cls, {"max_steps": 40, "save_steps": 0.25}) == [10, 20, 30, 40]


def test_validate_refuses_the_unfiring_cadence():
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.stage import STAGES

    cfg = _compose("trainer=sft_cpu", "trainer.args.save_steps=500")
    with pytest.raises(ValueError, match=r"save_steps=500 > max_steps=200"):
        STAGES["train"].validate(cfg)
    STAGES["train"].validate(_compose("trainer=sft_cpu"))

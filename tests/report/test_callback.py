"""The multirun-end callback turns the driver's config into the sweep report's config."""
from __future__ import annotations

from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from reasonkit.config import CONF_DIR, register
from reasonkit.report.callback import sweep_config


def _driver(*overrides: str):
    register()
    import reasonkit.launch  # noqa: F401 - the launch-mode resolver of the hydra node

    with initialize_config_dir(str(CONF_DIR), version_base=None):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.sweep.dir = "/o/multirun/2026-01-02/03-04-05"
    return cfg


def test_sweep_config_from_driver():
    cfg = sweep_config(_driver("debug=tiny", "tracking=wandb", "experiment_name=llh"))
    assert cfg is not None and "hydra" not in cfg
    assert cfg.stage == "report" and cfg.report.sweep == "/o/multirun/2026-01-02/03-04-05"
    assert cfg.tracking.group == "llh-2026-01-02-03-04-05"
    assert cfg.sampler.n == 2  # the driver's own (non-sweep) overrides are kept


def test_no_report_for_sweeps_without_eval_or_when_off():
    assert sweep_config(_driver("stage=generate")) is None
    assert sweep_config(_driver("report.after_multirun=false")) is None
    assert sweep_config(_driver("pipeline=[generate,judge]")) is None

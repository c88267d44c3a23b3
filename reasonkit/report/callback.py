"""Hydra callback: at the end of ``reasonkit -m ...`` build the sweep's table and plots.

It runs ``stage=report report.sweep=<this sweep's folder>`` through the ordinary runner, so the
result is the same artifact (and the same files) a later ``reasonkit stage=report`` would give.
A failure here is logged, never raised: the members' own results are already safe on disk.
"""
from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger("reasonkit")

# Stages whose sweep has something to tabulate.
REPORTABLE = ("pipeline", "eval", "dynamics")


def sweep_config(config: DictConfig) -> DictConfig | None:
    """The driver's config turned into the sweep report's config, or None when not wanted."""
    if config.get("stage") not in REPORTABLE or not OmegaConf.select(config, "report.after_multirun", default=False):
        return None
    if config.stage == "pipeline" and "eval" not in config.pipeline:
        return None
    sweep_dir = str(config.hydra.sweep.dir)
    cfg = OmegaConf.create(OmegaConf.to_container(config, resolve=False))
    with open_dict(cfg):
        del cfg["hydra"]
        cfg.stage = "report"
        cfg.report.sweep = sweep_dir
        cfg.report.runs = []
        cfg.report.experiment = None
        if cfg.get("tracking") is not None and not cfg.tracking.get("group"):
            # the members' W&B group (reasonkit/tracking/wandb_backend.py: <experiment>-<sweep>;
            # on SLURM the sweep is the array job id, which the driver reads from the sweep folder)
            from reasonkit.launch.context import sweep_id

            cfg.tracking.group = f"{cfg.experiment_name}-{sweep_id(sweep_dir)}"
    # interpolations of the hydra node (none expected) were dropped with it: resolve what is left
    OmegaConf.resolve(cfg)
    return cfg


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            cfg = sweep_config(config)
            if cfg is None:
                return
            from reasonkit import stages  # noqa: F401 - registers stages
            from reasonkit.pipeline.runner import run
            from reasonkit.report.stage import reprint
            from reasonkit.tracking import tracker_factory

            result = run(cfg, tracker_factory(cfg))
            rep = result.done["report"]
            if rep not in result.computed:
                reprint(rep)
        except Exception as e:  # noqa: BLE001
            log.error("sweep report failed (%s); rerun it with `reasonkit stage=report report.sweep=%s`",
                      str(e).splitlines()[0] if str(e) else type(e).__name__, config.hydra.sweep.dir)

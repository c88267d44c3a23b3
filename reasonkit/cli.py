"""The one entrypoint: ``reasonkit [stage=<name>|pipeline] [group=option ...] [key=value ...]``."""
from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from reasonkit.config import CONF_DIR, register

log = logging.getLogger("reasonkit")


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def _main(cfg: DictConfig) -> None:
    from reasonkit import stages  # noqa: F401 - registers stages
    from reasonkit.engines.generate import ShardPending
    from reasonkit.pipeline.runner import run
    from reasonkit.report.stage import reprint
    from reasonkit.tracking import tracker_factory

    try:
        done = run(cfg, tracker_factory(cfg))
    except ShardPending as e:
        log.info("%s", e)
        return
    rep = done.get("report")
    if rep is not None and cfg.stage in ("pipeline", "report"):
        from reasonkit.pipeline.runner import last_computed

        if rep not in last_computed:
            reprint(rep)


def main() -> None:
    register()
    _main()


if __name__ == "__main__":
    sys.exit(main())

"""The one entrypoint: ``reasonkit [stage=<name>|pipeline] [group=option ...] [key=value ...]``."""
from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from reasonkit.checks import one_line_errors
from reasonkit.config import CONF_DIR, register

log = logging.getLogger("reasonkit")


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def _main(cfg: DictConfig) -> None:
    from reasonkit import stages  # noqa: F401 - registers stages
    from reasonkit.pipeline.runner import run
    from reasonkit.report.stage import reprint
    from reasonkit.tracking import tracker_factory

    result = run(cfg, tracker_factory(cfg))
    rep = result.done.get("report")
    if rep is not None and cfg.stage in ("pipeline", "report") and rep not in result.computed:
        reprint(rep)  # a reused report is printed again: the user asked for the table


def main() -> None:
    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        from reasonkit.help import render

        print(render(CONF_DIR))
        return
    register()
    with one_line_errors():
        _main()


if __name__ == "__main__":
    sys.exit(main())

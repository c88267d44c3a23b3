"""W&B tracker: one run per stage execution, ``job_type`` = stage, grouped by experiment + sweep.

Everything sent to wandb (config, metrics, table cells, names) goes through ``redact``/``scrub``
first; the API key stays in the environment where wandb reads it. ``finish`` is idempotent and
never raises, so a tracking problem cannot mask the stage's own error.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from reasonkit.launch.context import LaunchContext, current
from reasonkit.tracking.config import TrackingConfig
from reasonkit.tracking.redact import redact, scrub, secret_values

log = logging.getLogger("reasonkit.tracking")

_SCALAR = (str, int, float, bool, type(None))


def _cell(v: Any, secrets: dict[str, str]) -> Any:
    if isinstance(v, str):
        return scrub(v, secrets)
    if isinstance(v, _SCALAR):
        return v
    return scrub(json.dumps(v, default=str, ensure_ascii=False), secrets)


def run_group(cfg: TrackingConfig, group: str | None, ctx: LaunchContext) -> str:
    if cfg.group:
        return cfg.group
    base = group or "default"
    return f"{base}-{ctx.sweep}" if ctx.sweep else base


def requeue_run_id(name: str, ctx: LaunchContext) -> str | None:
    """Same id before and after a SLURM requeue (SLURM_JOB_ID survives it), so the requeued job
    continues its W&B run instead of opening a second one."""
    if not ctx.on_slurm:
        return None
    return hashlib.sha1(f"{name}|{ctx.slurm_job_id}".encode()).hexdigest()[:16]


class WandbTracker:
    def __init__(self, cfg: TrackingConfig, launch: LaunchContext | None = None):
        self.cfg = cfg
        self._launch = launch
        self.run = None
        self.run_id: str | None = None
        self._secrets: dict[str, str] = {}

    def start(self, stage: str, config: dict[str, Any], group: str | None, name: str) -> None:
        import wandb

        cfg = self.cfg
        ctx = self._launch or current()
        self._secrets = secret_values()
        settings: dict[str, Any] = {"console": cfg.console, **cfg.settings}
        if any(scrub(a, self._secrets) != a for a in sys.argv):
            # wandb records sys.argv in the run metadata; a secret on the command line (against the
            # rules, but possible) must not end up there, so metadata collection is switched off.
            log.warning("a command-line argument holds a secret; W&B run metadata is not recorded")
            settings["x_disable_meta"] = True
        run_dir = Path(cfg.dir or os.environ.get("WANDB_DIR") or "outputs")
        run_dir.mkdir(parents=True, exist_ok=True)
        run_id = requeue_run_id(name, ctx) if cfg.resume_on_requeue else None
        tags = [scrub(t, self._secrets)[:64] for t in cfg.tags]
        if ctx.sweep:
            tags.append(f"sweep:{ctx.sweep}"[:64])
        self.run = wandb.init(
            project=cfg.project, entity=cfg.entity, group=run_group(cfg, group, ctx), job_type=stage,
            name=scrub(name, self._secrets), notes=cfg.notes, tags=tags,
            config=redact({**config, "_launch": ctx.as_dict()}, self._secrets),
            dir=str(run_dir), mode=cfg.mode, id=run_id, resume="allow" if run_id else None,
            reinit="create_new", settings=wandb.Settings(**settings))
        self.run_id = self.run.id

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if self.run is None:
            return
        self.run.log(redact(metrics, self._secrets), step=step)

    def table(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Log ``rows`` (capped at ``max_table_rows``) as a wandb.Table; nested values as JSON."""
        if self.run is None or not rows:
            return
        import wandb

        rows = rows[: self.cfg.max_table_rows]
        columns: list[str] = []
        for r in rows:
            columns += [c for c in r if c not in columns]
        data = [[_cell(r.get(c), self._secrets) for c in columns] for r in rows]
        self.run.log({key: wandb.Table(columns=columns, data=data)})

    def summary(self, metrics: dict[str, Any]) -> None:
        if self.run is None:
            return
        self.run.summary.update(redact(metrics, self._secrets))

    def update_config(self, config: dict[str, Any]) -> None:
        if self.run is None:
            return
        self.run.config.update(redact(config, self._secrets), allow_val_change=True)

    def images(self, files: dict[str, Any]) -> None:
        """Log each image file (e.g. a plot PNG) under its key."""
        if self.run is None or not files:
            return
        import wandb

        self.run.log({k: wandb.Image(str(p)) for k, p in files.items()})

    def finish(self, ok: bool = True) -> None:
        run, self.run = self.run, None
        if run is None:
            return
        try:
            run.finish(exit_code=0 if ok else 1)
        except Exception:  # noqa: BLE001 - must not replace the stage's own exception
            log.exception("W&B finish failed (run %s)", self.run_id)

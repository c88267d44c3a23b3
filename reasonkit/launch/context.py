"""Where this process runs: which sweep, which job of it, which SLURM job/array task, which restart.

Trackers group runs by sweep and tag them with the job, and requeue logic needs the restart count.
Both must work in every situation a stage can run in — a plain local run, a Hydra multirun with
the basic launcher, a submitit job on SLURM — so every field is optional and derived from what the
environment actually provides (Hydra's runtime config if initialised, SLURM's variables if set).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LaunchContext:
    # Identifies one multirun: the SLURM array job id when submitit submitted it, else the name of
    # Hydra's sweep directory (date/time), else None for a single run.
    sweep: str | None = None
    job_num: int | None = None        # Hydra's index of this job in the sweep
    overrides: tuple[str, ...] = ()   # the job's own sweep overrides (what differs between jobs)
    slurm_job_id: str | None = None
    slurm_array_job_id: str | None = None
    slurm_array_task_id: int | None = None
    restart_count: int = 0            # SLURM_RESTART_COUNT: >0 after a requeue

    @property
    def on_slurm(self) -> bool:
        return self.slurm_job_id is not None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["overrides"] = list(self.overrides)
        return d


# Written into a sweep folder by the SLURM launcher once its array is submitted (launch/submitit.py).
ARRAY_ID_FILE = ".slurm_array_job_id"


def sweep_id(sweep_dir: str | Path) -> str:
    """The id of the multirun in ``sweep_dir``, the same in the driver as in its jobs: the SLURM
    array job id when the sweep was submitted as one array (what each task reads from
    ``SLURM_ARRAY_JOB_ID``), else the folder's ``<date>-<time>``. The driver, which has no SLURM
    variables, needs it to put its sweep report in the members' W&B group."""
    d = Path(sweep_dir)
    f = d / ARRAY_ID_FILE
    if f.is_file():
        recorded = f.read_text().strip()
        if recorded:
            return recorded
    return "-".join(d.parts[-2:])


def _hydra() -> Any | None:
    try:
        from hydra.core.hydra_config import HydraConfig
    except ImportError:  # pragma: no cover - hydra is a core dependency
        return None
    return HydraConfig.get() if HydraConfig.initialized() else None


def current(environ: dict[str, str] | None = None) -> LaunchContext:
    env = os.environ if environ is None else environ
    hc = _hydra()
    multirun = False
    sweep_dir = job_num = None
    overrides: tuple[str, ...] = ()
    if hc is not None:
        from hydra.types import RunMode

        multirun = hc.mode == RunMode.MULTIRUN
        if multirun:
            sweep_dir = str(hc.sweep.dir)
            job_num = hc.job.get("num")
            overrides = tuple(hc.overrides.task)
    array_job = env.get("SLURM_ARRAY_JOB_ID")
    sweep = None
    if multirun:
        # An array job id is unique on its cluster; a sweep dir name is unique per start second.
        sweep = array_job or sweep_id(sweep_dir)
    task = env.get("SLURM_ARRAY_TASK_ID")
    return LaunchContext(
        sweep=sweep, job_num=job_num, overrides=overrides,
        slurm_job_id=env.get("SLURM_JOB_ID"), slurm_array_job_id=array_job,
        slurm_array_task_id=int(task) if task is not None else None,
        restart_count=int(env.get("SLURM_RESTART_COUNT", "0") or 0))

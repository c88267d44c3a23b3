"""Hydra submitit launchers with the three things reasonkit needs on top of the plugin:

* ``sampler.shards=N`` (with ``sampler.shard`` unset) in a job expands into N array tasks, one
  per shard (``sampler.shard=i``). Generation is resumable per record and the artifact completes
  when its last shard does, so the task that finishes last continues the pipeline: later stages
  wait for all shards without a dependency. Locally (basic launcher) one process loops over shards.
* Requeue = rerun the same command. The plugin's ``checkpoint`` resubmits the job with its initial
  arguments; with ``max_num_timeout > 0`` a timed-out or preempted job is requeued and the stages
  continue from what is on disk (finished artifacts are reused, generation resumes per record).
* Waiting reports every job's final SLURM state. The plugin waits job by job and stops at the
  first failure; here the scheduler is asked at a fixed interval (``poll_s``), all jobs are waited
  for, and a cancelled/failed/timed-out job is named with its overrides and state in one error,
  so a cancelled job ends the wait promptly instead of looking like a hang.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Sequence

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher as plugin
from omegaconf import OmegaConf

log = logging.getLogger(__name__)

# Seconds between forced scheduler queries while waiting (submitit alone backs off to 10 min).
DEFAULT_POLL_S = float(os.environ.get("REASONKIT_SLURM_POLL_S", "10"))


# Final SLURM states of a job that was stopped from outside its own code.
NO_RESULT_STATES = frozenset({"CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
                              "DEADLINE"})


class JobsNotCompleted(RuntimeError):
    """Some jobs of a sweep/array ended without a result (cancelled, failed, timed out)."""

    def __init__(self, failures: list["JobOutcome"], total: int):
        self.failures = failures
        lines = [f"{len(failures)} of {total} job(s) did not complete:"]
        lines += [f"  job {f.job_id} [{' '.join(f.overrides) or 'no overrides'}]: {f.state}" for f in failures]
        lines += ["", "first error:", failures[0].error]
        super().__init__("\n".join(lines))


@dataclass
class JobOutcome:
    job_id: str
    overrides: list[str]
    state: str
    error: str = ""


def expand_shards(config_loader: Any, config: Any, job_overrides: Sequence[Sequence[str]]) -> list[list[str]]:
    """One job per shard for every job whose config asks for ``sampler.shards > 1`` without a
    fixed ``sampler.shard``; other jobs unchanged."""
    out: list[list[str]] = []
    for ov in job_overrides:
        cfg = config_loader.load_sweep_config(config, list(ov))
        shards = OmegaConf.select(cfg, "sampler.shards", default=1) or 1
        shard = OmegaConf.select(cfg, "sampler.shard", default=None)
        if shards > 1 and shard is None:
            out += [[*ov, f"sampler.shard={i}"] for i in range(shards)]
        else:
            out.append(list(ov))
    return out


def wait_all(jobs: Sequence[Any], labels: Sequence[list[str]], poll_s: float = DEFAULT_POLL_S
             ) -> tuple[list[Any], list[JobOutcome]]:
    """Wait until every job is done; return (results of completed jobs, outcomes of the others)."""
    if not jobs:
        return [], []
    from submitit.slurm.slurm import SlurmInfoWatcher

    watcher = getattr(jobs[0], "watcher", None)
    if not isinstance(watcher, SlurmInfoWatcher):
        watcher = None  # local jobs: done() checks the processes themselves
    last = 0.0
    while True:
        if watcher is not None and time.time() - last >= poll_s:
            watcher.update()  # one sacct call for every job still registered
            last = time.time()
        if all(j.done() for j in jobs):
            break
        time.sleep(1.0)
    results, failures = [], []
    for job, ov in zip(jobs, labels):
        state = job.state
        if not job.paths.result_pickle.exists() and state.split()[0] in NO_RESULT_STATES:
            # Killed from outside (scancel, time limit, node/memory failure): no result will
            # come, so do not wait the result-file grace period of submitit.
            failures.append(JobOutcome(str(job.job_id), ov, state, f"the job ended {state} without a result"))
            continue
        try:
            results.append(job.results()[0])
        except Exception as e:  # noqa: BLE001 - reported below with the job's state
            if watcher is not None:
                watcher.update()
            failures.append(JobOutcome(str(job.job_id), ov, job.state, f"{type(e).__name__}: {e}"))
    return results, failures


def record_array_id(sweep_dir: Any, job_ids: Sequence[str]) -> None:
    """Leave the SLURM array's id in the sweep folder (``context.sweep_id`` reads it), so that the
    driver's sweep report is grouped with its members, whose sweep id is ``SLURM_ARRAY_JOB_ID``.
    A single job (no ``_`` in its id) is no array: its sweep id stays the folder's date/time."""
    from pathlib import Path

    from reasonkit.launch.context import ARRAY_ID_FILE

    arrays = {j.split("_")[0] for j in job_ids if "_" in j}
    if len(arrays) == 1:
        path = Path(sweep_dir) / ARRAY_ID_FILE
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(arrays.pop() + "\n")
        os.replace(tmp, path)


class ReasonkitLauncherMixin:
    _EXECUTOR: str

    poll_s = DEFAULT_POLL_S

    def _executor(self) -> Any:
        import submitit

        params = dict(self.params)  # type: ignore[attr-defined]
        init = {"folder": params.pop("submitit_folder")}
        if "max_num_timeout" in params:
            init[f"{self._EXECUTOR}_max_num_timeout"] = params.pop("max_num_timeout")
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, **init)
        base = set(OmegaConf.structured(plugin.BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in params.items()})
        return executor

    def sbatch_text(self, command: str = "python -m submitit.core._submit <folder>") -> str:
        """The sbatch script this launcher would submit, rendered on any machine (a dry run for
        checking a cluster profile): submitit refuses to build a SLURM executor where ``srun`` is
        missing, so its cluster detection is bypassed for the rendering only."""
        from unittest import mock

        from submitit.slurm import slurm

        with mock.patch.object(slurm.SlurmExecutor, "affinity", classmethod(lambda cls: 1)):
            executor = self._executor()
        return executor._executor._make_submission_file_text(command, "uid")

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from pathlib import Path

        cfg = self.config  # type: ignore[attr-defined]
        assert cfg is not None and job_overrides
        jobs_ov = expand_shards(self.hydra_context.config_loader, cfg, job_overrides)  # type: ignore[attr-defined]
        executor = self._executor()
        sweep_dir = Path(str(cfg.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        log.info("submitit '%s': %d job(s), sweep dir %s", self._EXECUTOR, len(jobs_ov), sweep_dir)
        args = []
        for k, ov in enumerate(jobs_ov):
            idx = initial_job_idx + k
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(ov)))
            args.append((ov, "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
        jobs = executor.map_array(self, *zip(*args))
        log.info("submitted: %s", " ".join(str(j.job_id) for j in jobs))
        if self._EXECUTOR == "slurm":
            record_array_id(sweep_dir, [str(j.job_id) for j in jobs])
        labels = [list(filter_overrides(ov)) for ov in jobs_ov]
        results, failures = wait_all(jobs, labels, self.poll_s)
        failed = {f.job_id for f in failures}
        for j, ov in zip(jobs, labels):
            if str(j.job_id) not in failed:
                log.info("job %s [%s]: finished", j.job_id, " ".join(ov))
        for f in failures:
            log.error("job %s [%s]: %s", f.job_id, " ".join(f.overrides), f.state)
        if failures:
            raise JobsNotCompleted(failures, len(jobs))
        return results


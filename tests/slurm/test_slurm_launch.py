"""The real ``reasonkit`` entrypoint submitted through ``hydra/launcher=slurm_cpu`` to a real
single-node SLURM 22.05 cluster (``launchers/slurm/cluster.sh``; started here if it is not up,
and stopped again afterwards if this module started it).

Every SLURM job gets 1 CPU (the test machine has 2 cores), so at most two run at a time. Each
test reads what the jobs left on disk (artifacts, manifests, job logs) and what the scheduler
recorded (sacct), never the launcher's own claims.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from rk_helpers import MODELS, REPO

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

CLUSTER = REPO / "launchers" / "slurm" / "cluster.sh"
LOG_TS = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


# Job ids these tests submitted: cancelled at the end, so a failed test leaves nothing queued.
SUBMITTED: list[str] = []


@pytest.fixture(scope="module")
def slurm_cluster():
    started = False
    if subprocess.run([str(CLUSTER), "status"], capture_output=True).returncode != 0:
        if os.geteuid() != 0:
            pytest.fail("the SLURM tests need the local cluster: run `sudo launchers/slurm/cluster.sh up` "
                        "first (or run the tests as root, which starts it)")
        t0 = time.time()
        subprocess.run([str(CLUSTER), "up"], check=True, timeout=900)
        print(f"cluster.sh up took {time.time() - t0:.1f}s")
        started = True
    yield
    if SUBMITTED:
        subprocess.run(["scancel", *sorted({j.split("_")[0] for j in SUBMITTED})], capture_output=True)
    if started:
        subprocess.run([str(CLUSTER), "down"], check=True, timeout=300)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "WANDB_"))}
    # Jobs run `python -m submitit.core._submit` from this checkout; the scheduler is asked every 2 s.
    # Each job has 1 CPU, but without cgroups torch would start a thread per core of the node.
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
               REASONKIT_SLURM_POLL_S="2", WANDB_SILENT="true", OMP_NUM_THREADS="1")
    return env


def _cmd(outputs: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "reasonkit", "hydra/launcher=slurm_cpu", f"paths.outputs={outputs}",
            f"paths.models={MODELS}", *overrides]


def submit(outputs: Path, *overrides: str, timeout: int = 1500, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    """Run the driver (no -m: the SLURM launcher implies multirun) until all its jobs end."""
    proc = subprocess.run(_cmd(outputs, *overrides), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env={**_env(), **(env or {})})
    SUBMITTED.extend(re.findall(r"submitted: ([0-9_]+)", proc.stdout + proc.stderr))
    if proc.returncode != 0:
        raise AssertionError(f"driver failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def submitted_ids(text: str) -> list[str]:
    m = re.findall(r"submitted: ([0-9_ ]+)", text)
    assert m, f"no 'submitted:' line in driver output:\n{text[-3000:]}"
    SUBMITTED.extend(m[-1].split())
    return m[-1].split()


def sacct(job: str, duplicates: bool = False) -> list[dict[str, str]]:
    """Allocation rows (no steps) of a job or array; with ``duplicates`` also requeued attempts."""
    cmd = ["sacct", "-X", "-n", "-P", "-o", "JobID,State,Start,End,AllocCPUS", "-j", job]
    out = subprocess.run(cmd + (["-D"] if duplicates else []), capture_output=True, text=True, check=True).stdout
    keys = ["id", "state", "start", "end", "cpus"]
    return [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.strip()]


def sacct_final(job: str, duplicates: bool = False, timeout: float = 120) -> list[dict[str, str]]:
    """sacct rows once every allocation has a final state: the driver gets a job's result as soon
    as its result file exists, while SLURM may still list it RUNNING/COMPLETING for a moment."""
    deadline = time.time() + timeout
    while True:
        rows = sacct(job, duplicates)
        if rows and all(r["state"] not in ("PENDING", "RUNNING", "COMPLETING", "REQUEUED") for r in rows[-1:]) \
                and all(r["state"] not in ("PENDING", "RUNNING", "COMPLETING") for r in rows):
            return rows
        if time.time() > deadline:
            raise AssertionError(f"job {job} did not reach a final state in {timeout}s: {rows}")
        time.sleep(1)


def job_logs(outputs: Path) -> dict[int, str]:
    """Hydra job log per job number of the (single) sweep under ``outputs``."""
    sweeps = sorted((outputs / "multirun").glob("*/*"))
    assert len(sweeps) == 1, sweeps
    return {int(p.parent.name): p.read_text() for p in sweeps[0].glob("*/*.log")}


def stamped(log: str, needle: str) -> list[datetime]:
    out = []
    for line in log.splitlines():
        m = LOG_TS.match(line)
        if m and needle in line:
            out.append(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f"))
    return out


def artifact_dirs(outputs: Path, stage: str) -> list[Path]:
    return sorted(p for p in (outputs / "artifacts" / stage).iterdir() if p.is_dir())


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def records(path: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted(path.glob("part-*.jsonl")) for line in open(shard)]


def test_sweep_of_three_strategies_generates_judges_and_scores_once(slurm_cluster, tiny_models, tmp_path):
    from reasonkit.tracking.reader import find_runs

    out = tmp_path / "outputs"
    # Credentials in the environment (they reach the jobs through sbatch's --export=ALL) must not
    # reach any file the run writes: artifacts, logs, submitit pickles, W&B run files.
    secrets_ = {"WANDB_API_KEY": secrets.token_hex(20), "OPENAI_API_KEY": "sk-" + secrets.token_urlsafe(24)}
    proc = submit(out, "debug=tiny", "selection=llh_highest_mean,llh_lowest_mean,llh_random", "tracking=wandb",
                  "tracking.mode=offline", env=secrets_)
    ids = submitted_ids(proc.stdout + proc.stderr)
    assert len(ids) == 3 and len({i.split("_")[0] for i in ids}) == 1        # one array of 3 tasks
    array = ids[0].split("_")[0]
    rows = sacct_final(array)
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert all(r["state"] == "COMPLETED" and r["cpus"] == "1" for r in rows), rows

    # generate and judge: one artifact each, computed by exactly one job, reused by the other two.
    logs = job_logs(out)
    assert sorted(logs) == [0, 1, 2]
    # score (the student's log-likelihoods) is needed by llh_highest/llh_lowest, not by llh_random:
    # which job ran which strategy is read from the select artifact each job's log names.
    strategy = {n: re.search(r"\[select\] computing \S*/select/(\S+)-[0-9a-f]{12}", log).group(1)
                for n, log in logs.items()}
    assert sorted(strategy.values()) == ["llh_highest_mean", "llh_lowest_mean", "llh_random"]
    needs = {"generate": [0, 1, 2], "judge": [0, 1, 2],
             "score": sorted(n for n, s in strategy.items() if s != "llh_random")}
    for stage in ("generate", "judge", "score"):
        assert len(artifact_dirs(out, stage)) == 1
        computed = [n for n, log in logs.items() if f"[{stage}] computing" in log]
        reused = [n for n, log in logs.items() if f"[{stage}] reusing" in log]
        assert len(computed) == 1, (stage, computed, reused)
        assert sorted(computed + reused) == needs[stage], (stage, computed, reused, strategy)
    gen = artifact_dirs(out, "generate")[0]
    assert manifest(gen)["metrics"]["samples"] == 24 * 2
    # The two waiting jobs used the finished artifact: their select started after judge finished.
    judge_done = datetime.fromtimestamp(manifest(artifact_dirs(out, "judge")[0])["finished_at"])
    for log in logs.values():
        (t_select,) = stamped(log, "[select] computing")
        assert t_select >= judge_done.replace(microsecond=0)

    # selection → format → train → eval fan out: one artifact per strategy.
    selects = artifact_dirs(out, "select")
    assert len(selects) == 3
    names = sorted(yaml.safe_load((s / "config.yaml").read_text())["selection"]["name"] for s in selects)
    assert names == ["llh_highest_mean", "llh_lowest_mean", "llh_random"]
    for s in selects:
        recs_ = records(s)
        per_problem = [r["problem_id"] for r in recs_]
        assert recs_ and len(per_problem) == len(set(per_problem))      # one response per problem
    for stage in ("format", "train", "eval"):
        dirs = artifact_dirs(out, stage)
        assert len(dirs) == 3 and all((d / "_SUCCESS").exists() for d in dirs), stage

    # W&B: one run per stage execution, job_type = stage, all grouped by experiment + this sweep,
    # including the sweep report the driver builds after the array (off SLURM: it must find the
    # array id the members group by in the sweep folder, not fall back to the folder's date/time).
    runs = find_runs(out)
    by_stage: dict[str, int] = {}
    for r in runs:
        by_stage[r.job_type] = by_stage.get(r.job_type, 0) + 1
        assert r.group == f"demo-{array}" and r.exit_code == 0, (r.job_type, r.group, r.exit_code)
    assert by_stage == {"generate": 1, "judge": 1, "score": 1, "select": 3, "format": 3, "train": 3, "eval": 3,
                        "report": 3 + 1}, by_stage
    sel_runs = [r for r in runs if r.job_type == "select"]
    assert sorted(r.config["_launch"]["slurm_array_task_id"] for r in sel_runs) == [0, 1, 2]
    report_tasks = [r.config["_launch"]["slurm_array_task_id"] for r in runs if r.job_type == "report"]
    assert sorted(t for t in report_tasks if t is not None) == [0, 1, 2]     # each member's own report
    assert report_tasks.count(None) == 1                                      # the driver's sweep report

    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".pkl" for p in files) and any(p.suffix == ".wandb" for p in files)
    for name, value in secrets_.items():
        leaked = [str(p) for p in files if value.encode() in p.read_bytes()]
        assert not leaked, f"{name} found in {leaked}"


def test_array_of_four_shards_runs_in_parallel_and_the_last_continues(slurm_cluster, tiny_models, tmp_path):
    out = tmp_path / "outputs"
    # 128 problems = 4 parts of 32 (reasonkit.generation.sharding.MIN_PART): one part per array task
    proc = submit(out, "debug=tiny", "dataset.sizes.train=128", "sampler.shards=4", "pipeline=[generate,judge]")
    ids = submitted_ids(proc.stdout + proc.stderr)
    array = ids[0].split("_")[0]
    assert sorted(ids) == [f"{array}_{i}" for i in range(4)]
    rows = sacct_final(array)
    assert len(rows) == 4 and all(r["state"] == "COMPLETED" for r in rows), rows

    gen = artifact_dirs(out, "generate")
    assert len(gen) == 1 and (gen[0] / "_SUCCESS").exists()
    shards = sorted(gen[0].glob("part-*.jsonl"))
    assert [s.name for s in shards] == [f"part-{i:05d}.jsonl" for i in range(4)]
    recs = records(gen[0])
    ids_ = [r["id"] for r in recs]
    assert len(ids_) == len(set(ids_)) == 128 * 2                      # nothing lost, nothing twice
    per_shard = [{json.loads(line)["problem_id"] for line in open(s)} for s in shards]
    assert all(per_shard) and sum(map(len, per_shard)) == len(set().union(*per_shard)) == 128

    logs = job_logs(out)
    # Each task generated its own shard; the shards overlapped in time (the array is parallel).
    spans = []
    judged = [n for n, log in logs.items() if "[judge] computing" in log]
    assert len(judged) == 1
    for n, log in sorted(logs.items()):
        # Job n generated shard n: it says so, or it saw every part complete (shards finishing at the
        # same moment may both see that; only one of them computes the judge stage, checked above).
        assert f"shard {n}/4 done" in log or "[generate] done" in log, log[-2000:]
        start = stamped(log, "[generate] computing")
        end = stamped(log, "still pending") + stamped(log, "[generate] done")
        assert len(start) == 1 and len(end) >= 1, log[-2000:]
        spans.append((start[0], max(end)))
    overlaps = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:] if a[0] < b[1] and b[0] < a[1]]
    assert overlaps, f"shard tasks ran one after another, not in parallel: {spans}"

    # The later stage ran once, in the task that completed the last shard, after all shards.
    (t_judge,) = stamped(logs[judged[0]], "[judge] computing")
    assert t_judge >= max(e for _, e in spans)
    assert manifest(artifact_dirs(out, "judge")[0])["metrics"]["samples"] == 128 * 2


# One sample per engine call. The toy teacher answers in ~20 tokens, so even so a job writes up to
# ~50 samples/s on an idle core; scancel/requeue only send SIGTERM (which submitit ignores) and
# SIGKILL follows KillWait (10 s) later, so an interrupted job keeps generating for 10 s more. The
# sample counts below leave far more work after the interruption than 10 s can finish, else the
# interrupted attempt completes the artifact and there is nothing left to resume.
SLOW = ("+sampler.engine.batch_size=1",)


class Driver:
    """The ``reasonkit`` driver running in the background, its output collected as it comes."""

    def __init__(self, outputs: Path, *overrides: str):
        self.proc = subprocess.Popen(_cmd(outputs, *overrides), cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout),  # type: ignore[arg-type]
                                        daemon=True)
        self._reader.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def job(self, timeout: float = 180) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"submitted: (\S+)", self.text)
            if m:
                SUBMITTED.append(m.group(1))
                return m.group(1)
            assert self.proc.poll() is None, self.text[-3000:]
            time.sleep(0.5)
        raise AssertionError(f"no job submitted in {timeout}s:\n{self.text[-3000:]}")

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(timeout=10)


def wait_until(what: str, cond, timeout: float = 600, every: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def partial_lines(outputs: Path) -> int:
    return sum(1 for p in outputs.glob("artifacts/generate/*/part-*.jsonl.partial") for _ in open(p))


def assert_complete_once(outputs: Path, n_problems: int, n: int) -> dict:
    """The generate artifact holds every sample exactly once; returns its manifest metrics."""
    gen = artifact_dirs(outputs, "generate")
    assert len(gen) == 1 and (gen[0] / "_SUCCESS").exists()
    recs = records(gen[0])
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)) == n_problems * n
    problems = {r["problem_id"] for r in recs}
    assert len(problems) == n_problems and set(ids) == {f"{p}_{k}" for p in problems for k in range(n)}
    return manifest(gen[0])["metrics"]


def test_time_limit_requeues_and_resumes_without_losing_or_duplicating(slurm_cluster, tiny_models, tmp_path):
    out = tmp_path / "outputs"
    # 9600 samples: ~135 s at the fastest rate seen (~70/s), so the first attempt is still generating
    # when the time-limit signal comes (up to ~75 s in, below); 1600 were done before it came.
    n_problems, n = 400, 24
    # A 2-minute limit with USR2 45 s before it: SLURM signals about 45-75 s into each attempt (it
    # checks time limits every 30 s, and may signal early); submitit checkpoints (= the same command)
    # and requeues the job.
    drv = Driver(out, "stage=generate", f"dataset.sizes.train={n_problems}", f"sampler.n={n}", *SLOW,
                 "local.slurm.timeout_min=2", "local.slurm.signal_delay_s=45", "local.slurm.max_num_timeout=6")
    job = drv.job()

    def n_requeued() -> int:
        return sum(a["state"] == "REQUEUED" for a in sacct(job, duplicates=True))

    wait_until("records on disk", lambda: partial_lines(out) > 0, timeout=600)
    before = n_requeued()
    wait_until("a requeue after records were written", lambda: n_requeued() > before, timeout=600)
    # The time-limit path is proven; give the requeued job room to finish in one more attempt.
    subprocess.run(["scontrol", "update", f"JobId={job}", "TimeLimit=30"], check=True)
    assert drv.wait(timeout=1200) == 0, drv.text[-5000:]
    attempts = sacct_final(job, duplicates=True)
    assert attempts[-1]["state"] == "COMPLETED", attempts
    requeued = [a for a in attempts[:-1] if a["state"] == "REQUEUED"]
    assert requeued and len(requeued) == len(attempts) - 1, attempts
    m = assert_complete_once(out, n_problems, n)
    # The final attempt found earlier attempts' records on disk and generated only the rest.
    assert m["resumed_from_disk"] > 0 and m["generated_now"] > 0
    assert m["resumed_from_disk"] + m["generated_now"] == n_problems * n
    submitit_log = "".join(p.read_text() for p in out.glob("multirun/*/*/.submitit/*/*_log.err"))
    # Every requeue was submitit's answer to the time-limit signal, not a crash.
    assert submitit_log.count("this job is timed-out") == len(requeued), submitit_log[-3000:]


def test_preempted_job_is_requeued_and_resumes(slurm_cluster, tiny_models, tmp_path):
    out = tmp_path / "outputs"
    # 2400 samples, requeued after the first 64: the 10 s of KillWait cannot finish the rest (600
    # could: the interrupted attempt then completed the artifact and the requeued one resumed nothing)
    n_problems, n = 150, 16
    drv = Driver(out, "stage=generate", f"dataset.sizes.train={n_problems}", f"sampler.n={n}", *SLOW)
    job = drv.job()
    wait_until("records on disk", lambda: partial_lines(out) >= 64, timeout=300)
    # What a preempt-by-requeue policy does: kill the running job and put it back in the queue.
    subprocess.run(["scontrol", "requeue", job], check=True)
    on_disk = partial_lines(out)
    assert drv.wait(timeout=1200) == 0, drv.text[-5000:]
    attempts = sacct_final(job, duplicates=True)
    assert [a["state"] for a in attempts] == ["REQUEUED", "COMPLETED"], attempts
    m = assert_complete_once(out, n_problems, n)
    assert m["generated_now"] > 0, f"the requeued attempt generated nothing: the interrupted one finished ({m})"
    assert m["resumed_from_disk"] >= on_disk > 0
    assert m["resumed_from_disk"] + m["generated_now"] == n_problems * n


def test_cancelled_job_is_reported_as_cancelled_not_a_hang(slurm_cluster, tiny_models, tmp_path):
    out = tmp_path / "outputs"
    drv = Driver(out, "stage=generate", "dataset.sizes.train=300", "sampler.n=4", *SLOW)
    job = drv.job()
    wait_until("records on disk", lambda: partial_lines(out) > 0, timeout=300)
    subprocess.run(["scancel", job], check=True)
    t_cancel = time.time()
    rc = drv.wait(timeout=120)  # a hang would time out here
    waited = time.time() - t_cancel
    text = drv.text
    assert rc != 0
    assert sacct_final(job)[0]["state"].startswith("CANCELLED")
    assert re.search(rf"job {job} \[.*\]: CANCELLED", text), text[-3000:]
    assert "1 of 1 job(s) did not complete" in text
    print(f"driver reported the cancel after {waited:.1f}s")
    assert not (artifact_dirs(out, "generate")[0] / "_SUCCESS").exists()

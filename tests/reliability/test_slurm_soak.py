"""The kill soak on the real SLURM test cluster: a two-task array sweep is cancelled (``scancel``,
or SIGKILL to every step, then resubmitted) or requeued (``scontrol requeue``, SLURM restarts it)
at seeded random points;
the finished artifacts must equal those of an uninterrupted local run of the same sweep, byte for
byte, with every record id exactly once.

Needs ``launchers/slurm/cluster.sh up`` (root starts it; see tests/slurm for the fixture's rules).
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from rel_helpers import (
    ORDER,
    Watched,
    artifact_dirs,
    content_files,
    digest_file,
    ids,
    in_progress,
    records_on_disk,
    rk_cmd,
)
from rk_helpers import MODELS, REPO

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

CLUSTER = REPO / "launchers" / "slurm" / "cluster.sh"
SEED = int(os.environ.get("RK_SOAK_SEED", "1234"))
EVENTS = int(os.environ.get("RK_SLURM_SOAK_EVENTS", "6"))
# One sample per engine call (up to ~50 samples/s here: the toy teacher answers in ~20 tokens).
# scancel/requeue send SIGTERM, which submitit ignores, and SIGKILL 10 s later (KillWait): with
# 600 samples the first event's jobs finished generation and the whole short pipeline within those
# 10 s, so every event landed after the end. 2400 samples, aimed at no later than halfway through
# what is left, leave more than 10 s of generation after the event.
N_PROBLEMS, N = 300, 8
OVERRIDES = ["debug=tiny", f"dataset.sizes.train={N_PROBLEMS}", f"sampler.n={N}", "pipeline=[format]",
             "+sampler.engine.batch_size=1"]
SWEEP = "selection=correct,shortest_correct"


@pytest.fixture(scope="module")
def cluster():
    if subprocess.run([str(CLUSTER), "status"], check=False, capture_output=True).returncode != 0:
        if os.geteuid() != 0:
            pytest.fail("needs the local SLURM cluster: `sudo launchers/slurm/cluster.sh up`")
        subprocess.run([str(CLUSTER), "up"], check=True, timeout=900)
    yield


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "WANDB_"))}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
               REASONKIT_SLURM_POLL_S="2", OMP_NUM_THREADS="1")
    return env


class Driver:
    """The sweep's driver process (it submits the array and waits for it), output collected."""

    def __init__(self, outputs: Path):
        cmd = [sys.executable, "-m", "reasonkit", "hydra/launcher=slurm_cpu", f"paths.outputs={outputs}",
               f"paths.models={MODELS}", SWEEP, *OVERRIDES]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)  # type: ignore[arg-type]
        self._reader.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def array(self, timeout: float = 300) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"submitted: (\d+)_", self.text)
            if m:
                return m.group(1)
            assert self.proc.poll() is None, self.text[-3000:]
            time.sleep(0.5)
        raise AssertionError(f"no array submitted in {timeout}s:\n{self.text[-3000:]}")

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(timeout=10)


def _running(array: str) -> bool:
    out = subprocess.run(["squeue", "-h", "-j", array, "-o", "%T"], check=False, capture_output=True, text=True).stdout
    return "RUNNING" in out


@pytest.mark.timeout(3600)
def test_slurm_array_sweep_survives_scancel_and_requeue(cluster, tiny_models, tmp_path):
    t0 = time.monotonic()
    ref_out, out = tmp_path / "ref", tmp_path / "soak"
    w = Watched(rk_cmd(ref_out, SWEEP, *OVERRIDES, flags=("-m",)))
    assert w.finish() == 0, w.log[-4000:]
    t_ref = time.monotonic() - t0
    ref_root, root = ref_out / "artifacts", out / "artifacts"

    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    log: list[str] = []
    arrays: list[str] = []
    drv = None
    for event in range(EVENTS):
        if drv is None or drv.proc.poll() is not None:
            drv = Driver(out)
            arrays.append(drv.array())
        array = arrays[-1]
        deadline = time.time() + 600
        while not _running(array):
            assert time.time() < deadline and drv.proc.poll() is None, drv.text[-3000:]
            time.sleep(0.2)
        # aim at the work still left: records inside generation, then the judge's start, then a
        # random moment shortly after the jobs start (select/format/finishing); where it landed
        # is read from disk
        gen_left = records_on_disk(root, "generate") < N_PROBLEMS * N - 10
        if gen_left and event < 2:
            base = records_on_disk(root, "generate")
            at = rng.randint(base + 1, base + max(1, (N_PROBLEMS * N - base) // 2))
            while records_on_disk(root, "generate") < at and _running(array):
                time.sleep(0.05)
            aim = f"record {at}"
        elif not all((a / "_SUCCESS").exists() for a in artifact_dirs(root, "judge")) or \
                not artifact_dirs(root, "judge"):
            while in_progress(root) != "judge" and _running(array):
                time.sleep(0.02)
            aim = "judge"
        else:
            delay = rng.uniform(0.0, 3.0)
            time.sleep(delay)
            aim = f"+{delay:.1f}s"
        # scancel / requeue: SIGTERM (submitit ignores it), SIGKILL after KillWait (10 s here),
        # so they are aimed at generation, the one stage long enough to be still running then;
        # kill: SIGKILL to every step at once (a node failure, the OOM killer) for the rest
        action = rng.choice(["scancel", "requeue"]) if aim.startswith("record") else "kill"
        if action == "requeue":
            r = subprocess.run(["scontrol", "requeue", array], check=False, capture_output=True, text=True)
            if r.returncode == 0:
                deadline = time.time() + 120
                while _running(array):  # until the old attempt is dead
                    assert time.time() < deadline, f"requeued array {array} still running"
                    time.sleep(0.2)
        else:
            if action == "kill":
                subprocess.run(["scancel", "--full", "--signal=KILL", array], check=False)
            subprocess.run(["scancel", array], check=True)
            drv.wait(timeout=300)  # the driver reports the cancel and exits; a hang fails here
        # read after the jobs died: the stage whose artifact has no _SUCCESS is where they were
        finished = all((a / "_SUCCESS").exists() for a in artifact_dirs(root, "format")) \
            and len(artifact_dirs(root, "format")) == 2
        where = in_progress(root) or ("after the end" if finished else "between stages")
        landed[where] += 1
        log.append(f"event {event + 1}: {action:8s} at {aim:>10s} -> {where}")

    if drv is None or drv.proc.poll() is not None:
        drv = Driver(out)
        arrays.append(drv.array())
    rc = drv.wait(timeout=1800)
    assert rc == 0, drv.text[-5000:]
    subprocess.run(["scancel", *arrays], check=False, capture_output=True)
    print("\n" + "\n".join(log))
    print(f"SLURM soak (seed {SEED}): {EVENTS} events over {len(arrays)} submissions: {dict(landed)}; reference run {t_ref:.0f}s, "
          f"{time.monotonic() - t0:.0f}s")

    for st in ORDER:
        refs = artifact_dirs(ref_root, st)
        arts = artifact_dirs(root, st)
        assert [a.name for a in arts] == [r.name for r in refs], st
        for a, r in zip(arts, refs):
            assert (a / "_SUCCESS").exists(), a
            got, want = content_files(a), content_files(r)
            assert sorted(got) == sorted(want), (a, sorted(set(got) ^ set(want)))
            for rel in want:
                assert digest_file(got[rel], root) == digest_file(want[rel], ref_root), f"{a.name}/{rel} differs"
    gen = ids(artifact_dirs(root, "generate")[0])
    assert len(gen) == len(set(gen)) == N_PROBLEMS * N
    # At least the generation events land inside a stage; the later ones often find the work done
    # (a resubmitted job finishes what is left within seconds), which is reported, not hidden.
    assert sum(n for k, n in landed.items() if k in ORDER) >= 1, landed

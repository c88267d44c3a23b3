"""Seeded kill -9 soak over every stage of the real CLI on the tiny models.

One uninterrupted run is the reference. A second outputs folder is then driven by a seeded
schedule: start the pipeline, wait until the targeted stage logs "computing", sleep a random
fraction of that stage's reference duration, SIGKILL the whole process group, and start again.
Where a kill really landed is read from disk afterwards (the stage whose artifact folder has no
``_SUCCESS``), so the per-stage counts are what happened, not what was aimed at. At the end every
artifact must equal the reference byte for byte (logs and manifests excepted, see rel_helpers),
every record id exactly once, and nothing may wait on a lock a dead process held.
"""
from __future__ import annotations

import json
import os
import random
import time
from collections import Counter

import pytest
from rel_helpers import (
    ORDER,
    Watched,
    artifact_dirs,
    content_files,
    digest_file,
    ids,
    in_progress,
    live_members,
    records_on_disk,
    rk_cmd,
)

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("RK_SOAK_SEED", "1234"))
KILLS_PER_STAGE = int(os.environ.get("RK_SOAK_KILLS_PER_STAGE", "3"))
MIN_KILLS = int(os.environ.get("RK_SOAK_MIN_KILLS", "20"))  # lower only when trying a shorter schedule
# Smaller than debug=tiny: this runs ~25 times. save_steps=1 gives train a checkpoint per step to
# resume from, so a kill inside train exercises resume rather than only a restart.
OVERRIDES = ["debug=tiny", "selection=llh_highest_mean", "dataset.sizes.train=12", "dataset.sizes.test=4",
             "sampler.batch_size=4", "eval.n=1", "eval.ks=[1]", "trainer.args.max_steps=4",
             "trainer.args.save_steps=1"]
N_SAMPLES = 12 * 2  # dataset.sizes.train x sampler.n (debug=tiny)


def _run_to_end(outputs, tag: str) -> Watched:
    w = Watched(rk_cmd(outputs, *OVERRIDES))
    rc = w.finish()
    assert rc == 0, f"{tag} failed ({rc}):\n{w.log[-6000:]}"
    return w


@pytest.mark.timeout(3600)
def test_kill9_soak_every_stage_resumes_to_identical_artifacts(tmp_path, tiny_models):
    t_start = time.monotonic()
    ref_out, out = tmp_path / "ref", tmp_path / "soak"
    _run_to_end(ref_out, "reference run")
    ref_root, root = ref_out / "artifacts", out / "artifacts"
    seconds = {}
    for st in ORDER:
        (art,) = artifact_dirs(ref_root, st)
        seconds[st] = json.loads((art / "manifest.json").read_text())["seconds"]

    rng = random.Random(SEED)
    landed: Counter[str] = Counter()
    log: list[str] = []
    runs = 0
    for target in ORDER:
        for _ in range(KILLS_PER_STAGE):
            done = artifact_dirs(root, target) and all((p / "_SUCCESS").exists() for p in artifact_dirs(root, target))
            if done:  # an earlier kill aimed here landed after the stage had finished
                break
            base = records_on_disk(root, "generate")  # what earlier killed runs left
            w = Watched(rk_cmd(out, *OVERRIDES))
            runs += 1
            if not w.wait_stage(target):
                raise AssertionError(f"run {runs} ended before {target} started (rc {w.proc.returncode}):\n"
                                     f"{w.log[-4000:]}")
            assert "another process holds the lock" not in w.log, f"stale lock after a kill:\n{w.log[-3000:]}"
            if target == "generate":
                # the engine's start-up dominates its wall time: aim at the records instead, so
                # the kill lands between two written batches or inside one
                at = rng.randint(min(base + 1, N_SAMPLES - 1), N_SAMPLES - 1)
                while records_on_disk(root, "generate") < at and "generate" not in w.finished \
                        and w.proc.poll() is None:
                    time.sleep(0.02)
                aim = f"record {at}"
            else:
                delay = rng.uniform(0.0, 0.6) * seconds[target]
                w.sleep_within(target, delay)
                aim = f"+{delay:.3f}s"
            pgid = w.proc.pid
            w.kill9()
            deadline = time.monotonic() + 10  # SIGKILL delivery to a large group is not instant
            while live_members(pgid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not live_members(pgid), f"processes survived kill -9 of group {pgid}"
            where = in_progress(root) or "between stages"
            landed[where] += 1
            log.append(f"kill {sum(landed.values()):2d}: aimed {target:8s} {aim:>10s} -> landed in {where}")

    final = _run_to_end(out, "final rerun")
    runs += 1
    assert "another process holds the lock" not in final.log
    print("\n".join(log))
    print(f"kill -9 soak (seed {SEED}): {sum(landed.values())} kills, per stage: "
          + ", ".join(f"{st}={landed.get(st, 0)}" for st in ORDER)
          + f", between stages={landed.get('between stages', 0)}; {runs} soak runs; "
            f"{time.monotonic() - t_start:.0f}s including the reference run")

    # every artifact complete, one per stage, equal to the reference file by file
    for st in ORDER:
        arts, refs = artifact_dirs(root, st), artifact_dirs(ref_root, st)
        assert len(arts) == 1 and (arts[0] / "_SUCCESS").exists(), (st, arts)
        assert arts[0].name == refs[0].name, st  # same config → same hash
        got, want = content_files(arts[0]), content_files(refs[0])
        assert sorted(got) == sorted(want), (st, sorted(set(got) ^ set(want)))
        for rel in want:
            assert digest_file(got[rel], root) == digest_file(want[rel], ref_root), f"{st}/{rel} differs"
        leftovers = [p.name for p in arts[0].rglob("*") if p.name.endswith((".partial", ".tmp"))]
        assert not leftovers, (st, leftovers)

    # no record lost or duplicated
    gen = artifact_dirs(root, "generate")[0]
    expected = {f"toy-train-{i:05d}_{k}" for i in range(12) for k in range(2)}
    assert len(expected) == N_SAMPLES
    for st in ("generate", "judge", "score"):
        got_ids = ids(artifact_dirs(root, st)[0])
        assert len(got_ids) == len(set(got_ids)) == len(expected), st
        assert set(got_ids) == expected, st
    assert ids(gen) == ids(artifact_dirs(ref_root, "generate")[0])
    report = (out / "reports" / "demo.md").read_bytes().replace(str(root).encode(), b"")
    assert report == (ref_out / "reports" / "demo.md").read_bytes().replace(str(ref_root).encode(), b"")

    missing = [st for st in ORDER if landed.get(st, 0) == 0]
    assert not missing, f"no kill landed in {missing}: {landed}"
    assert sum(landed.values()) >= MIN_KILLS

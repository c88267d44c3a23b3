"""Eight processes run overlapping Hydra sweeps on one outputs folder: every artifact is computed
by exactly one of them, counted from their logs ("[<stage>] computing <path>" is logged only by
the process that holds the artifact lock and found it incomplete) and cross-checked on disk."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from rel_helpers import Watched, artifact_dirs, ids, rk_cmd

pytestmark = pytest.mark.slow

# Four selections, each process sweeps two neighbours: every selection is asked for by four
# processes, the shared generate / judge artifacts by all eight, score by the llh_highest_mean jobs
# (llh_random is the unscored baseline).
SELECTIONS = ["correct", "llh_highest_mean", "llh_random", "shortest_correct"]
BASE = ["debug=tiny", "dataset.sizes.train=12", "pipeline=[format]"]
COMPUTING = re.compile(r"\[(\w+)\] computing (\S+)")


@pytest.mark.timeout(1800)
def test_eight_overlapping_sweeps_compute_each_artifact_once(tmp_path, tiny_models):
    out = tmp_path / "outputs"
    procs, jobs = [], []
    for i in range(8):
        jobs += [SELECTIONS[i % 4], SELECTIONS[(i + 1) % 4]]
        sweep = f"selection={SELECTIONS[i % 4]},{SELECTIONS[(i + 1) % 4]}"
        procs.append(Watched(rk_cmd(out, sweep, *BASE, flags=("-m",))))
    logs = []
    for i, w in enumerate(procs):
        rc = w.finish()
        (tmp_path / f"proc{i}.log").write_text(w.log)
        assert rc == 0, w.log[-6000:]
        logs.append(w.log)

    waited = sum(log.count("(computed by another process)") for log in logs)
    computed = Counter(m.group(2) for log in logs for m in COMPUTING.finditer(log))
    per_stage = Counter(m.group(1) for log in logs for m in COMPUTING.finditer(log))
    root = out / "artifacts"
    on_disk = {str(p) for st in ("generate", "judge", "score", "select", "format") for p in artifact_dirs(root, st)}
    print(f"\n8 processes x 2 sweep jobs: {sum(computed.values())} computations of {len(on_disk)} artifacts; "
          f"per stage {dict(per_stage)}; {waited} waited on another process's lock and reused its result")
    assert waited >= 1, "the processes never overlapped: nothing here tested concurrency"
    assert set(computed) == on_disk
    assert all(n == 1 for n in computed.values()), {k: v for k, v in computed.items() if v != 1}
    assert dict(per_stage) == {"generate": 1, "judge": 1, "score": 1, "select": 4, "format": 4}
    for p in on_disk:
        assert (root / p / "_SUCCESS").exists(), p
    # every stage a job planned and did not compute, it reused (4 stages, 5 with score)
    reused = sum(log.count("reusing") for log in logs)
    planned = sum(5 if sel == "llh_highest_mean" else 4 for sel in jobs)
    assert reused + sum(computed.values()) == planned, (reused, planned)

    gen = artifact_dirs(root, "generate")[0]
    m = json.loads((gen / "manifest.json").read_text())["metrics"]
    assert m["generated_now"] == m["samples"] == len(set(ids(gen))) == len(ids(gen)) == 12 * 2

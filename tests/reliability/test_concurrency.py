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
# processes, the shared generate / judge / score artifacts by all eight (score only by the llh ones).
SELECTIONS = ["correct", "llh_highest_mean", "llh_random", "shortest_correct"]
BASE = ["debug=tiny", "dataset.sizes.train=12", "pipeline=[format]"]
COMPUTING = re.compile(r"\[(\w+)\] computing (\S+)")


@pytest.mark.timeout(1800)
def test_eight_overlapping_sweeps_compute_each_artifact_once(tmp_path, tiny_models):
    out = tmp_path / "outputs"
    procs = []
    for i in range(8):
        sweep = f"selection={SELECTIONS[i % 4]},{SELECTIONS[(i + 1) % 4]}"
        procs.append(Watched(rk_cmd(out, "-m", sweep, *BASE)))
    logs = []
    for w in procs:
        rc = w.finish()
        assert rc == 0, w.log[-6000:]
        logs.append(w.log)

    computed = Counter(m.group(2) for log in logs for m in COMPUTING.finditer(log))
    per_stage = Counter(m.group(1) for log in logs for m in COMPUTING.finditer(log))
    root = out / "artifacts"
    on_disk = {str(p) for st in ("generate", "judge", "score", "select", "format") for p in artifact_dirs(root, st)}
    print(f"\n8 processes x 2 sweep jobs: {sum(computed.values())} computations of {len(on_disk)} artifacts; "
          f"per stage {dict(per_stage)}")
    assert set(computed) == on_disk
    assert all(n == 1 for n in computed.values()), {k: v for k, v in computed.items() if v != 1}
    assert dict(per_stage) == {"generate": 1, "judge": 1, "score": 1, "select": 4, "format": 4}
    for p in on_disk:
        assert (root / p / "_SUCCESS").exists(), p
    # the 14 jobs that did not compute a stage reused it (16 jobs, each planning 4 or 5 stages)
    reused = sum(log.count("reusing") for log in logs)
    planned = 16 * 4 + 8  # the 8 llh jobs also plan score
    assert reused + sum(computed.values()) == planned, (reused, planned)

    gen = artifact_dirs(root, "generate")[0]
    m = json.loads((gen / "manifest.json").read_text())["metrics"]
    assert m["generated_now"] == m["samples"] == len(set(ids(gen))) == len(ids(gen)) == 12 * 2

"""``hydra/launcher=local``: the submitit code path (pickled jobs, shard expansion, state report)
as local subprocesses, with the real entrypoint. No scheduler needed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rk_helpers import MODELS, REPO

pytestmark = pytest.mark.slow


def test_local_launcher_expands_shards_into_subprocess_jobs(tiny_models, tmp_path):
    out = tmp_path / "outputs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "reasonkit", "-m", "hydra/launcher=local", "stage=generate",
                           "debug=tiny", "sampler.shards=2", f"paths.outputs={out}", f"paths.models={MODELS}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    log = proc.stdout + proc.stderr
    assert "submitit 'local': 2 job(s)" in log and "sampler.shard=0" in log and "sampler.shard=1" in log
    (gen,) = [p for p in (out / "artifacts" / "generate").iterdir() if p.is_dir()]
    assert (gen / "_SUCCESS").exists()
    assert sorted(p.name for p in gen.glob("part-*.jsonl")) == ["part-00000.jsonl", "part-00001.jsonl"]
    ids = [json.loads(line)["id"] for p in gen.glob("part-*.jsonl") for line in open(p)]
    assert len(ids) == len(set(ids)) == 24 * 2
    # Each job ran in its own process with its own submitit folder.
    assert len(list(out.glob("multirun/*/*/.submitit/*/*_result.pkl"))) == 2

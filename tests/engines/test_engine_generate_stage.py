"""``reasonkit stage=generate`` through the real CLI: sharded and resumable, on the hf backend and
on a real vLLM engine, plus the fallback from vLLM to hf. The merged output must be identical for
any shard count and any way of running the shards."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine_helpers import REPO, TINY, build_tiny_llama, require_vllm

pytestmark = [pytest.mark.slow]

N_PROBLEMS = 100  # 3 parts of >= 32 problems


def rk(outputs: Path, *overrides: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    build_tiny_llama(TINY)
    cmd = [sys.executable, "-m", "reasonkit", f"paths.outputs={outputs}", "stage=generate",
           "model@teacher=local", f"teacher.path={TINY}", "teacher.name=tiny-llama",
           f"dataset.sizes.train={N_PROBLEMS}", "sampler.n=2", "sampler.sampling.max_tokens=8", *overrides]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def artifact(outputs: Path) -> Path:
    (art,) = [p for p in (outputs / "artifacts" / "generate").glob("tiny-llama-*") if p.is_dir()]
    return art


def merged(art: Path) -> tuple[list[str], list[dict]]:
    files = sorted(art.glob("part-*.jsonl"))
    return [f.name for f in files], [json.loads(x) for f in files for x in f.read_text().splitlines()]


def check_complete(art: Path) -> dict:
    assert (art / "_SUCCESS").exists()
    names, recs = merged(art)
    assert names == [f"part-{i:05d}.jsonl" for i in range(3)]
    ids = [r["id"] for r in recs]
    assert ids == [f"toy-train-{i:05d}_{k}" for i in range(N_PROBLEMS) for k in range(2)]  # problem order
    return json.loads((art / "manifest.json").read_text())


def test_hf_shards_any_way_give_identical_output(tmp_path):
    one = tmp_path / "one"
    rk(one, "sampler=hf")
    ref_names, ref = merged(artifact(one))
    check_complete(artifact(one))

    # SLURM-array style: each shard its own command; the artifact completes with the last one
    arr = tmp_path / "array"
    p0 = rk(arr, "sampler=hf", "sampler.shards=2", "sampler.shard=0")
    assert "still pending" in p0.stdout + p0.stderr
    art = artifact(arr)
    assert not (art / "_SUCCESS").exists() and merged(art)[0] == ["part-00000.jsonl", "part-00002.jsonl"]
    rk(arr, "sampler=hf", "sampler.shards=2", "sampler.shard=1")
    m = check_complete(art)
    assert merged(art)[1] == ref
    assert sorted(m["engine"]["shards"]) == ["0", "1"] and m["engine"]["backends"] == ["hf"]
    for name in ref_names:  # byte-identical files, not only equal records
        assert (art / name).read_bytes() == (artifact(one) / name).read_bytes()

    # all shards as local processes (CPU: no device lists), finishing what another N left over
    loc = tmp_path / "local"
    rk(loc, "sampler=hf", "sampler.shards=3", "sampler.shard=2")  # part 2 done by a 3-way run
    rk(loc, "sampler=hf", "sampler.shards=2")
    m = check_complete(artifact(loc))
    assert merged(artifact(loc))[1] == ref
    assert sorted(m["engine"]["shards"]) == ["0", "1", "2"]
    assert m["engine"]["shards"]["0"]["parts"] == [0, 2] and m["engine"]["shards"]["0"]["generated_now"] == 2 * 33
    assert sum(s["generated_now"] for s in m["engine"]["shards"].values()) == 2 * N_PROBLEMS


@pytest.mark.vllm
def test_vllm_one_process_equals_two_local_shard_processes(tmp_path):
    require_vllm()
    over = ["sampler=vllm", "++sampler.engine.dtype=float32", "++sampler.engine.max_model_len=256"]
    rk(tmp_path / "one", *over)
    rk(tmp_path / "two", *over, "sampler.shards=2")
    _, a = merged(artifact(tmp_path / "one"))
    _, b = merged(artifact(tmp_path / "two"))
    check_complete(artifact(tmp_path / "two"))
    assert a == b
    assert all(r["n_completion_tokens"] and r["finish_reason"] in ("length", "stop") for r in a)
    m = json.loads((artifact(tmp_path / "two") / "manifest.json").read_text())
    assert m["engine"]["backends"] == ["vllm"] and m["engine"]["fallbacks"] == {}


@pytest.mark.vllm
def test_vllm_that_cannot_start_falls_back_to_hf_and_says_so(tmp_path):
    require_vllm()
    # a KV cache far larger than this machine's memory: vLLM refuses to start
    p = rk(tmp_path / "fb", "sampler=vllm", "sampler.fallback=hf", env={"VLLM_CPU_KVCACHE_SPACE": "100000"})
    assert "falling back to hf" in p.stdout + p.stderr
    m = check_complete(artifact(tmp_path / "fb"))
    ((shard, info),) = m["engine"]["shards"].items()
    assert info["engine"]["backend"] == "hf" and info["engine"]["fallback_from"] == "vllm"
    assert m["engine"]["fallbacks"][shard] == info["engine"]["fallback_reason"] != ""
    # without a fallback the same failure is an error, not a silent switch
    p = rk(tmp_path / "nofb", "sampler=vllm", env={"VLLM_CPU_KVCACHE_SPACE": "100000"}, check=False)
    assert p.returncode != 0

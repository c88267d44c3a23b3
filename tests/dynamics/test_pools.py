"""Typed pools and per-type summaries, on real JSONL files (no model needed)."""
from __future__ import annotations

import json
import math
import random
from types import SimpleNamespace

import pytest

from reasonkit.dynamics.pools import PoolError, build_pool, read_pool_file
from reasonkit.dynamics.stage import checkpoints
from reasonkit.dynamics.summary import summarize
from reasonkit.pipeline.artifacts import Artifact, write_shard


def _pool(**kw):
    base = {"source": "file", "type": None, "path": None, "row": "student", "correct": None, "n": None, "seed": 0}
    return SimpleNamespace(**{**base, **kw})


def test_file_pool_types_subset_and_errors(tmp_path):
    f = tmp_path / "p.jsonl"
    rows = [{"id": f"q{i}", "prompt": f"{i}+1?", "response": str(i + 1), "type": "para" if i % 2 else "orig"}
            for i in range(20)]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pool = build_pool([_pool(path=str(f))], {})
    assert {r["type"] for r in pool} == {"para", "orig"} and len(pool) == 20
    assert pool[0]["id"] == "orig/q0" and pool[0]["source_id"] == "q0"
    a = build_pool([_pool(path=str(f), n=5, seed=3, type="sub")], {})
    b = build_pool([_pool(path=str(f), n=5, seed=3, type="sub")], {})
    c = build_pool([_pool(path=str(f), n=5, seed=4, type="sub")], {})
    assert a == b and len(a) == 5 and {r["type"] for r in a} == {"sub"} and a != c
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({"prompt": "x", "response": "y"}) + "\n")
    with pytest.raises(PoolError, match=rf"{bad}:2: field 'type': expected a non-empty string"):
        read_pool_file(bad, typed=True)
    assert len(read_pool_file(bad, typed=False)) == 2  # the pool's own type applies
    bad.write_text("{not json\n")
    with pytest.raises(PoolError, match=rf"{bad}:1: not a JSON object"):
        read_pool_file(bad, typed=False)


def test_judged_pool_keeps_correct_only(tmp_path):
    art = tmp_path / "judge" / "x-1"
    art.mkdir(parents=True)
    recs = [{"id": f"p{i}_0", "problem_id": f"p{i}", "prompt": "q", "response": "r", "correct": i % 3 == 0}
            for i in range(9)]
    write_shard(art / "part-00000.jsonl", recs)
    pool = build_pool([_pool(source="judged", type="right", correct=True)], {"judge": Artifact(art)})
    assert [r["source_id"] for r in pool] == ["p0_0", "p3_0", "p6_0"]


def test_summary_numbers():
    rng = random.Random()
    rows = [{"type": "a" if i % 2 else "b", "llh_sum": -rng.uniform(1, 9), "n_tokens": rng.randint(1, 9),
             "entropy_mean": rng.uniform(0, 2)} for i in range(10)]
    for r in rows:
        r["llh_mean"] = r["llh_sum"] / r["n_tokens"]
    out = {r["type"]: r for r in summarize(7, rows)}
    a = [r for r in rows if r["type"] == "a"]
    assert out["a"]["step"] == 7 and out["a"]["n"] == 5
    assert out["a"]["llh_mean"] == pytest.approx(sum(r["llh_mean"] for r in a) / 5)
    assert out["a"]["ppl"] == pytest.approx(math.exp(-sum(r["llh_sum"] for r in a) / sum(r["n_tokens"] for r in a)))
    assert out["a"]["n_tokens"] == sum(r["n_tokens"] for r in a)


def test_checkpoints_listing(tmp_path):
    for s in (10, 2, 4):
        (tmp_path / "checkpoints" / f"checkpoint-{s}").mkdir(parents=True)
        (tmp_path / "checkpoints" / f"checkpoint-{s}" / "config.json").write_text("{}")
    (tmp_path / "checkpoints" / "checkpoint-12").mkdir()  # no weights yet: not a checkpoint
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    assert [s for s, _ in checkpoints(tmp_path, 12)] == [2, 4, 10, 12]
    assert checkpoints(tmp_path, 12)[-1][1].name == "model"
    assert [s for s, _ in checkpoints(tmp_path, 10)] == [2, 4, 10]
